"""Voice features: pitch of known tones, MFCC shape and behaviour, and the WAV reader's limits."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from revisit.lib import speakers

RATE = 16000


def voiced_tone(f0, seconds=1.0):
    """A buzz with harmonics (like a voice) at fundamental ``f0``."""
    t = np.arange(int(RATE * seconds)) / RATE
    wave_ = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.2 * wave_).astype(np.float32)


@pytest.mark.parametrize("f0", [90.0, 120.0, 210.0, 300.0])
def test_it_measures_the_pitch_of_a_voiced_tone(f0):
    track = speakers.pitch(voiced_tone(f0))
    voiced = track[track > 0]
    assert voiced.size > 0.9 * track.size
    assert np.median(voiced) == pytest.approx(f0, rel=0.02)


def test_it_finds_no_pitch_in_silence_or_noise():
    assert not speakers.pitch(np.zeros(RATE, dtype=np.float32)).any()
    noise = np.random.default_rng(1).normal(0, 0.1, RATE).astype(np.float32)
    assert (speakers.pitch(noise) > 0).mean() < 0.1


def test_it_gives_thirteen_mfccs_per_ten_millisecond_frame():
    coefficients = speakers.mfcc(voiced_tone(150.0))
    assert coefficients.shape == (1 + (RATE - 400) // 160, 13)
    assert np.isfinite(coefficients).all()
    quiet = speakers.mfcc(0.1 * voiced_tone(150.0))
    # a level change moves c0 (overall level) and leaves the shape coefficients alone
    assert (coefficients[:, 0] - quiet[:, 0]).mean() > 1.0
    assert (
        np.abs(coefficients[:, 1:] - quiet[:, 1:]).max()
        < 1e-6 + 0.05 * np.abs(coefficients[:, 1:]).max()
    )


def test_it_tells_a_low_voice_from_a_high_one_by_its_features():
    low = speakers.voice_features(voiced_tone(100.0))
    high = speakers.voice_features(voiced_tone(220.0))
    assert low.shape == high.shape == (speakers.FEATURES,)
    assert np.exp(low[12]) == pytest.approx(100.0, rel=0.03)
    assert np.exp(high[12]) == pytest.approx(220.0, rel=0.03)


def test_it_describes_audio_too_short_for_a_frame_as_zeros():
    assert not speakers.voice_features(np.zeros(100, dtype=np.float32)).any()


def write_wav(path, *, rate, channels, width=2):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * width * channels * rate)
    return path


def test_it_reads_each_channel_of_a_16k_wav(tmp_path):
    channels = speakers.read_wav(write_wav(tmp_path / "s.wav", rate=RATE, channels=2))
    assert len(channels) == 2
    assert all(c.shape == (RATE,) and c.dtype == np.float32 for c in channels)


@pytest.mark.parametrize(("rate", "width"), [(22050, 2), (RATE, 1)])
def test_it_refuses_other_rates_and_sample_sizes(tmp_path, rate, width):
    path = write_wav(tmp_path / "s.wav", rate=rate, channels=1, width=width)
    with pytest.raises(speakers.SpeakerError):
        speakers.read_wav(path)
