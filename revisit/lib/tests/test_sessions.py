"""Generated test sessions: the ground truth matches the audio, one voice per channel, and
utterances that begin with a dash are spoken.

Utterances are quoted from AnnoMI transcript 0 (Wu et al., ICASSP 2022,
doi:10.1109/ICASSP43922.2022.9746035).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from revisit.lib.ffprobe import probe
from revisit.testing import sessions
from revisit.testing.sessions import (
    GroundTruth,
    SessionError,
    SessionOptions,
    Utterance,
    annomi_csv,
    build_session,
    decode_pcm,
    load_transcript,
    main,
    speak,
)

RATE = 16000
DASHED = "-and you usually have three to four drinks when you do drink."
DIALOGUE = [
    Utterance("therapist", "Okay. That's at least 12 drinks a week."),
    Utterance("client", "Something like that."),
    Utterance("therapist", DASHED),
    Utterance("client", "Mm-hmm."),
]
WAV = SessionOptions(container="wav", layout="mono")


def rms(samples, start, end):
    part = samples[int(start * RATE) : int(end * RATE)]
    return float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) if part.size else 0.0


def gaps(truth, margin=0.03):
    """The silent stretches between and around utterances, a little margin inside each."""
    edges = [0.0]
    for u in truth.utterances:
        edges += [u.start, u.end]
    edges.append(truth.duration_s)
    pairs = zip(edges[::2], edges[1::2], strict=True)
    return [(a + margin, b - margin) for a, b in pairs if b - a > 2 * margin]


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stereo")
    return build_session([DIALOGUE], folder, options=SessionOptions(container="wav"))


def test_it_places_speech_inside_the_ground_truth_spans(tmp_path):
    session = build_session([DIALOGUE], tmp_path, options=WAV)
    samples = decode_pcm(session.media, rate=RATE)[:, 0]
    truth = session.truth
    assert len(samples) / RATE == pytest.approx(truth.duration_s, abs=0.02)
    assert [u.text for u in truth.utterances] == [u.text for u in DIALOGUE]
    for u in truth.utterances:
        assert rms(samples, u.start, u.end) > 0.02, u.text
        # speech reaches both ends of its span
        assert rms(samples, u.start, u.start + 0.15) > 0.005
        assert rms(samples, u.end - 0.15, u.end) > 0.005
    silent = gaps(truth)
    assert len(silent) == len(truth.utterances) + 1
    for start, end in silent:
        assert rms(samples, start, end) < 0.001


def test_it_pauses_between_utterances_within_the_range(tmp_path):
    options = SessionOptions(container="wav", layout="mono", pause_s=(0.4, 0.9))
    truth = build_session([DIALOGUE], tmp_path, options=options).truth
    pauses = [b.start - a.end for a, b in zip(truth.utterances, truth.utterances[1:], strict=False)]
    assert all(0.4 - 0.002 <= pause <= 0.9 + 0.002 for pause in pauses)
    assert len(set(pauses)) > 1


def test_it_puts_each_speaker_on_its_own_channel(stereo):
    samples = decode_pcm(stereo.media, rate=RATE, channels=2)
    assert stereo.truth.channels == {"therapist": "left", "client": "right"}
    for u in stereo.truth.utterances:
        left = rms(samples[:, 0], u.start, u.end)
        right = rms(samples[:, 1], u.start, u.end)
        own, other = (left, right) if u.speaker == "therapist" else (right, left)
        assert own > 0.02, u.text
        assert other < 0.001, u.text


def test_it_uses_a_different_voice_for_each_speaker(stereo):
    therapist = speak("Something like that.", voice=stereo.truth.voices["therapist"])
    client = speak("Something like that.", voice=stereo.truth.voices["client"])
    assert stereo.truth.voices["therapist"] != stereo.truth.voices["client"]
    assert not np.array_equal(therapist[: client.size], client[: therapist.size])


def test_it_speaks_an_utterance_that_starts_with_a_dash(stereo):
    dashed = next(u for u in stereo.truth.utterances if u.text == DASHED)
    without_dash = speak(DASHED[1:], voice=stereo.truth.voices["therapist"])
    # Twelve words take a few seconds; a swallowed option would leave nothing at all.
    assert dashed.end - dashed.start == pytest.approx(without_dash.size / 22050, abs=0.5)
    assert dashed.end - dashed.start > 2.0


def test_it_refuses_text_that_makes_no_sound():
    with pytest.raises(SessionError, match="no audio"):
        speak("   ", voice="en-us+m3")


def test_it_is_deterministic(tmp_path):
    first = build_session([DIALOGUE], tmp_path / "a", options=SessionOptions(container="wav"))
    second = build_session([DIALOGUE], tmp_path / "b", options=SessionOptions(container="wav"))
    assert first.media.read_bytes() == second.media.read_bytes()
    assert first.truth_path.read_text() == second.truth_path.read_text()
    video = SessionOptions(container="mp4", video_size="160x90", max_utterances=2)
    mp4_a = build_session([DIALOGUE], tmp_path / "va", options=video)
    mp4_b = build_session([DIALOGUE], tmp_path / "vb", options=video)
    assert mp4_a.media.read_bytes() == mp4_b.media.read_bytes()
    reseeded = build_session(
        [DIALOGUE], tmp_path / "c", options=SessionOptions(container="wav", seed=1)
    )
    assert reseeded.truth.utterances != first.truth.utterances


def test_it_stops_at_the_limits(tmp_path):
    by_count = build_session(
        [DIALOGUE], tmp_path / "n", options=SessionOptions(container="wav", max_utterances=2)
    )
    assert len(by_count.truth.utterances) == 2
    by_time = build_session(
        [DIALOGUE], tmp_path / "t", options=SessionOptions(container="wav", max_seconds=6.0)
    )
    assert 1 <= len(by_time.truth.utterances) < len(DIALOGUE)
    assert by_time.truth.duration_s <= 6.0


def test_it_marks_topic_boundaries_when_joining_transcripts(tmp_path):
    alcohol = [
        Utterance(u.speaker, u.text, 0, i, "reducing alcohol consumption")
        for i, u in enumerate(DIALOGUE[:2])
    ]
    smoking = [
        Utterance("therapist", "How do you feel about your smoking?", 8, 0, "smoking cessation"),
        Utterance("client", "I want to quit before the baby comes.", 8, 1, "smoking cessation"),
    ]
    options = SessionOptions(container="wav", layout="mono", topic_gap_s=2.0)
    session = build_session([alcohol, smoking], tmp_path, options=options)
    topics = session.truth.topics
    assert [t.topic for t in topics] == ["reducing alcohol consumption", "smoking cessation"]
    utterances = session.truth.utterances
    assert topics[0].start == utterances[0].start
    assert topics[0].end == utterances[1].end
    assert topics[1].start == utterances[2].start
    assert topics[1].start - topics[0].end == pytest.approx(2.0, abs=0.002)
    assert [u.transcript_id for u in utterances] == [0, 0, 8, 8]


@pytest.mark.parametrize(
    ("container", "video", "audio"),
    [("mp4", "h264", "aac"), ("webm", "vp8", "opus"), ("m4a", None, "aac")],
)
def test_it_writes_each_format(tmp_path, container, video, audio):
    options = SessionOptions(container=container, video_size="160x90", max_utterances=2)
    session = build_session([DIALOGUE], tmp_path, options=options)
    info = probe(session.media)
    assert (info.video.codec if info.video else None) == video
    assert info.audio is not None
    assert (info.audio.codec, info.audio.channels) == (audio, 2)
    assert info.duration_s == pytest.approx(session.truth.duration_s, abs=0.1)
    if info.video is not None:
        assert (info.video.width, info.video.height) == (160, 90)


def test_it_writes_ground_truth_json(stereo):
    data = json.loads(stereo.truth_path.read_text())
    assert "doi:10.1109/ICASSP43922.2022.9746035" in data["source"]
    assert [u["text"] for u in data["utterances"]] == [u.text for u in DIALOGUE]
    assert {"start", "end", "speaker", "text"} <= set(data["utterances"][0])


@pytest.mark.skipif(not annomi_csv().exists(), reason="the AnnoMI CSV is not on this machine")
def test_it_speaks_an_annomi_transcript_from_the_command_line(tmp_path, capsys):
    transcript = load_transcript(0)
    assert transcript[4].text.startswith("-")
    assert {u.speaker for u in transcript} == {"therapist", "client"}
    args = ["--transcript", "0", "--out", str(tmp_path), "--format", "wav"]
    code = main([*args, "--max-utterances", "3", "--male-pair"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["utterances"] == 3
    truth = json.loads((tmp_path / "session.json").read_text())
    assert [u["text"] for u in truth["utterances"]] == [u.text for u in transcript[:3]]
    assert truth["voices"] == {"therapist": "en-us+m3", "client": "en-us+m7"}


def test_it_ships_a_fixture_whose_ground_truth_matches_its_audio():
    folder = Path(sessions.__file__).parent / "fixtures"
    media, truth_path = folder / "annomi-0-stereo.mp4", folder / "annomi-0-stereo.json"
    assert media.stat().st_size + truth_path.stat().st_size <= 2 * 1024 * 1024
    truth = GroundTruth.from_json(truth_path.read_text(encoding="utf-8"))
    info = probe(media)
    assert info.video is not None
    assert info.audio is not None
    assert (info.video.codec, info.audio.codec, info.audio.channels) == ("h264", "aac", 2)
    assert info.duration_s == pytest.approx(truth.duration_s, abs=0.1)
    assert any(u.text.startswith("-") for u in truth.utterances)
    samples = decode_pcm(media, rate=RATE, channels=2)
    for u in truth.utterances:
        left = rms(samples[:, 0], u.start, u.end)
        right = rms(samples[:, 1], u.start, u.end)
        own, other = (left, right) if u.speaker == "therapist" else (right, left)
        assert own > 0.02, u.text
        assert other < 0.005, u.text
    mono = samples.mean(axis=1)
    for start, end in gaps(truth, margin=0.06):
        assert rms(mono, start, end) < 0.005
