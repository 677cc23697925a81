"""extract_wav16k() writes 16 kHz mono PCM for the speech model, from all or one channel."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest

from revisit.lib.ffmpeg import FFMPEG, FfmpegError
from revisit.lib.renditions import extract_wav16k
from revisit.testing.sessions import make_test_clip


def read_wav(path):
    with wave.open(str(path)) as wav:
        params = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return params, samples.astype(np.float64) / 32768


@pytest.fixture(scope="module")
def left_only(tmp_path_factory):
    """Stereo: a tone on the left, silence on the right, like a two-microphone recorder."""
    path = tmp_path_factory.mktemp("wav16k") / "left.mkv"
    graph = (
        "sine=frequency=440:sample_rate=48000:duration=1.5[l];"
        "anullsrc=r=48000:cl=mono,atrim=duration=1.5[r];"
        "[l][r]amerge=inputs=2[a]"
    )
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-filter_complex",
            graph,
            "-map",
            "[a]",
            "-c:a",
            "flac",
            path,
        ],
        check=True,
        timeout=60,
    )
    return path


def test_it_writes_16_khz_mono_16_bit(tmp_path):
    src = make_test_clip(
        tmp_path / "in.webm",
        container="webm",
        video_codec="libvpx",
        audio_codec="libopus",
        seconds=1.0,
    )
    dst = tmp_path / "out.wav"
    progress: list[float] = []
    extract_wav16k(src, dst, progress=progress.append)
    params, samples = read_wav(dst)
    assert params == (16000, 1, 2)
    assert samples.size == pytest.approx(16000, rel=0.05)
    assert progress


def test_it_takes_one_channel_when_asked(left_only, tmp_path):
    left, right, mixed = tmp_path / "l.wav", tmp_path / "r.wav", tmp_path / "m.wav"
    extract_wav16k(left_only, left, channel=0)
    extract_wav16k(left_only, right, channel=1)
    extract_wav16k(left_only, mixed)
    level = {
        name: np.sqrt(np.mean(read_wav(p)[1] ** 2))
        for name, p in (("left", left), ("right", right), ("mixed", mixed))
    }
    assert level["left"] > 0.05
    assert level["right"] < 0.001
    assert 0.001 < level["mixed"] < level["left"]


@pytest.mark.parametrize("channel", [-1, 2, 5])
def test_it_refuses_a_channel_that_is_not_there(left_only, tmp_path, channel):
    dst = tmp_path / "out.wav"
    with pytest.raises(ValueError, match="channel"):
        extract_wav16k(left_only, dst, channel=channel)
    assert list(tmp_path.iterdir()) == []


def test_it_leaves_no_file_when_ffmpeg_fails(tmp_path):
    src = tmp_path / "in.wav"
    src.write_bytes(b"RIFF" + b"\x00" * 100)
    dst = tmp_path / "out.wav"
    with pytest.raises(FfmpegError):
        extract_wav16k(src, dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]
