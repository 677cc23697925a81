"""Transcripts survive a JSON round trip, and malformed JSON gives a typed error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revisit.lib.stt import Segment, Transcript, TranscriptFormatError, Word

times = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


@st.composite
def words(draw: st.DrawFn) -> Word:
    start = draw(times)
    end = start + draw(st.floats(min_value=0, max_value=5))
    return Word(start, end, draw(st.text(max_size=20)), draw(st.floats(0, 1)))


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    start = draw(times)
    return Segment(
        start=start,
        end=start + draw(st.floats(min_value=0, max_value=30)),
        text=draw(st.text(max_size=80)),
        words=tuple(draw(st.lists(words(), max_size=5))),
        speaker=draw(st.none() | st.sampled_from(["S1", "S2", "Carol"])),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.builds(
        Transcript,
        language=st.sampled_from(["en", "de", "fr"]),
        duration=times,
        segments=st.lists(segments(), max_size=4).map(tuple),
        model=st.sampled_from(["tiny.en", "base", ""]),
    )
)
def test_it_round_trips_through_json(transcript):
    assert Transcript.from_json(transcript.to_json()) == transcript
    assert Transcript.from_dict(json.loads(transcript.to_json())) == transcript


def test_it_writes_the_fields_the_api_serves():
    transcript = Transcript(
        language="en",
        duration=3.0,
        segments=(Segment(0.5, 1.5, "Hello there.", (Word(0.5, 0.9, "Hello", 0.9),), "S1"),),
        model="tiny.en",
    )
    data = json.loads(transcript.to_json())
    segment = data["segments"][0]
    assert set(segment) == {"start", "end", "speaker", "text", "words"}
    assert segment["words"][0] == {"start": 0.5, "end": 0.9, "text": "Hello", "probability": 0.9}


VALID = {
    "format": 1,
    "language": "en",
    "duration": 2.0,
    "model": "tiny.en",
    "segments": [
        {
            "start": 0.0,
            "end": 1.0,
            "speaker": None,
            "text": "Hi",
            "words": [{"start": 0.0, "end": 0.5, "text": "Hi", "probability": 0.5}],
        }
    ],
}


def mutated(path: tuple[object, ...], value: object) -> str:
    data = json.loads(json.dumps(VALID))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[]", id="not-an-object"),
        pytest.param(b"\xff\xfe{", id="not-utf8"),
        pytest.param(mutated(("format",), 2), id="future-format"),
        pytest.param(mutated(("segments",), {}), id="segments-not-a-list"),
        pytest.param(mutated(("duration",), "long"), id="duration-not-a-number"),
        pytest.param(mutated(("duration",), True), id="duration-a-bool"),
        pytest.param(mutated(("segments", 0, "start"), None), id="segment-without-start"),
        pytest.param(mutated(("segments", 0, "end"), -1.0), id="segment-ends-before-start"),
        pytest.param(mutated(("segments", 0, "speaker"), 7), id="speaker-not-a-string"),
        pytest.param(mutated(("segments", 0, "words", 0), "Hi"), id="word-not-an-object"),
        pytest.param(mutated(("segments", 0, "words", 0, "end"), -0.1), id="word-ends-early"),
        pytest.param(json.dumps(VALID).replace("2.0", "NaN"), id="duration-nan"),
    ],
)
def test_it_rejects_malformed_transcripts_with_a_typed_error(text):
    assert Transcript.from_json(json.dumps(VALID)).segments[0].text == "Hi"
    with pytest.raises(TranscriptFormatError):
        Transcript.from_json(text)
