"""Stereo sessions with one speaker per channel are labelled by channel energy; stereo with the
same sound on both sides is not mistaken for that."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from revisit.bench.quality import Span, speaker_accuracy
from revisit.lib import speakers
from revisit.lib.stt import Word
from revisit.testing.sessions import SessionOptions, Voices, make_session

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs the Debian package espeak-ng"
)


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    options = SessionOptions(
        layout="stereo", container="wav", voices=Voices(), max_seconds=30, sample_rate=16000
    )
    return make_session([0], tmp_path_factory.mktemp("stereo"), options=options)


def words_for(truth):
    words = []
    for utterance in truth.utterances:
        tokens = utterance.text.split()
        step = (utterance.end - utterance.start) / len(tokens)
        for i, token in enumerate(tokens):
            start = utterance.start + i * step
            words.append(Word(round(start, 3), round(start + 0.9 * step, 3), token, 0.9))
    return words


def truth_spans(truth):
    return [Span(u.start, u.end, u.speaker) for u in truth.utterances]


def test_it_labels_each_word_by_the_louder_channel(stereo):
    left, right = speakers.read_wav(stereo.media)
    assert speakers.channels_are_separate(left, right)
    result = speakers.label_speakers(words_for(stereo.truth), [left, right])
    assert result.method == "channels"
    predicted = [Span(s.start, s.end, s.speaker) for s in result.segments]
    assert speaker_accuracy(predicted, truth_spans(stereo.truth)).accuracy >= 0.99
    assert min(result.confidence) > 0.9  # the other channel is silent
    assert len(result.segments) == len(stereo.truth.utterances)


def test_it_follows_the_therapist_channel_setting(stereo):
    left, right = speakers.read_wav(stereo.media)
    words = words_for(stereo.truth)
    usual = speakers.label_by_channels(words, left, right)
    flipped = speakers.label_by_channels(words, left, right, therapist_channel=1)
    assert [s.speaker for s in flipped.segments] == [
        s.speaker for s in speakers.swap_labels(usual.segments)
    ]


def test_it_breaks_a_segment_where_the_channel_changes_without_a_pause(stereo):
    left, right = speakers.read_wav(stereo.media)
    words = words_for(stereo.truth)
    joined = [
        Word(w.start, max(w.end, nxt.start), w.text, w.probability)
        for w, nxt in zip(words, [*words[1:], words[-1]], strict=True)
    ]
    result = speakers.label_by_channels(joined, left, right)
    speakers_in_order = [u.speaker for u in stereo.truth.utterances]
    assert [s.speaker for s in result.segments] == speakers_in_order


def test_it_treats_the_same_sound_on_both_channels_as_mono(stereo):
    left, right = speakers.read_wav(stereo.media)
    mixed = ((left + right) / 2).astype(np.float32)
    assert not speakers.channels_are_separate(mixed, mixed.copy())
    result = speakers.label_speakers(words_for(stereo.truth), [mixed, mixed.copy()])
    assert result.method == "clusters"


def test_it_does_not_call_silence_separate_channels():
    silent = np.zeros(16000 * 3, dtype=np.float32)
    assert not speakers.channels_are_separate(silent, silent)
    assert not speakers.channels_are_separate(silent[:10], silent[:10])


def test_it_refuses_audio_it_cannot_use(tmp_path):
    with pytest.raises(speakers.SpeakerError):
        speakers.label_speakers([], [])
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEfmt nonsense")
    with pytest.raises(speakers.SpeakerError):
        speakers.read_wav(bad)
