"""Captions are valid WebVTT with short, two-line cues and escaped text."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import subprocess
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revisit.lib.stt import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    Segment,
    Transcript,
    Word,
    to_webvtt,
)

TIMING = re.compile(
    r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$"
)
VOICE = re.compile(r"^<v ([^<>\n]+)>")


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse(vtt: str) -> list[tuple[float, float, str | None, list[str]]]:
    """A strict reading of the WebVTT subset Revisit writes: header, then timing + text blocks."""
    assert vtt.endswith("\n")
    header, *blocks = vtt[:-1].split("\n\n")
    assert header == "WEBVTT"
    cues = []
    for block in blocks:
        timing, *lines = block.split("\n")
        match = TIMING.match(timing)
        assert match, timing
        start, end = seconds(*match.groups()[:4]), seconds(*match.groups()[4:])
        assert 1 <= len(lines) <= 2
        speaker = None
        voice = VOICE.match(lines[0])
        if voice:
            speaker = html.unescape(voice.group(1))
            lines[0] = lines[0][voice.end() :]
        for line in lines:
            assert line.strip()
            assert "-->" not in line
            assert "<" not in line
            assert ">" not in line
            assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", line), line
        cues.append((start, end, speaker, [html.unescape(line) for line in lines]))
    return cues


def spoken(start: float, text: str, pace: float = 0.35) -> Segment:
    words = tuple(
        Word(start + i * pace, start + i * pace + pace * 0.8, token, 0.9)
        for i, token in enumerate(text.split())
    )
    return Segment(words[0].start, words[-1].end, text, words)


LONG = (
    "I kept going over the conversation again and again until very late, and then in the "
    "morning I felt tired but somehow lighter, as if saying it out loud had helped a little."
)


def test_it_writes_cues_of_at_most_two_short_lines_and_seven_seconds():
    transcript = Transcript("en", 60.0, (spoken(1.0, LONG), spoken(30.0, "Thank you.")))
    cues = parse(to_webvtt(transcript))
    assert len(cues) >= 3
    for start, end, _speaker, lines in cues:
        assert 0 < end - start <= MAX_CUE_SECONDS + 1e-9
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    assert " ".join(" ".join(lines) for *_, lines in cues) == LONG + " Thank you."
    starts = [start for start, *_ in cues]
    assert starts == sorted(starts)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))


def test_it_splits_segments_without_word_times_by_length_and_time():
    transcript = Transcript("en", 40.0, (Segment(0.0, 20.0, LONG),))
    cues = parse(to_webvtt(transcript))
    assert len(cues) >= 3
    assert " ".join(" ".join(lines) for *_, lines in cues) == LONG
    assert cues[0][0] == 0.0
    assert all(0 < end - start <= MAX_CUE_SECONDS for start, end, *_ in cues)


def test_it_escapes_markup_and_the_cue_arrow():
    text = "if x < y & y > z --> then <b>bold</b> &amp;"
    vtt = to_webvtt(Transcript("en", 10.0, (spoken(0.0, text, pace=0.1),)))
    assert "<b>" not in vtt
    assert vtt.count("-->") == len(parse(vtt))
    assert " ".join(" ".join(lines) for *_, lines in parse(vtt)) == text


def test_it_names_speakers_with_voice_tags():
    segments = (
        Segment(0.0, 1.0, "How are you?", speaker="S1"),
        Segment(1.5, 2.5, "Better.", speaker="S2"),
        Segment(3.0, 4.0, "Good.", speaker="S3"),
    )
    vtt = to_webvtt(
        Transcript("en", 5.0, segments), speaker_names={"S1": "Alice <therapist>", "S2": "Carol"}
    )
    assert [speaker for _, _, speaker, _ in parse(vtt)] == ["Alice <therapist>", "Carol", "S3"]
    assert "<v Alice &lt;therapist&gt;>How are you?" in vtt


def test_it_writes_hours_for_long_recordings():
    vtt = to_webvtt(Transcript("en", 4000.0, (Segment(3725.5, 3727.25, "Still here."),)))
    assert "01:02:05.500 --> 01:02:07.250" in vtt


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the Debian package ffmpeg")
def test_it_is_read_by_ffmpeg(tmp_path):
    transcript = Transcript(
        "en", 60.0, (spoken(1.0, LONG), Segment(40.0, 41.0, "a < b & c", speaker="S1"))
    )
    vtt = to_webvtt(transcript)
    source = tmp_path / "captions.vtt"
    source.write_text(vtt, encoding="utf-8")
    result = subprocess.run(
        [str(shutil.which("ffmpeg")), "-v", "error", "-i", str(source), "-f", "srt", "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stderr == ""
    assert result.stdout.count(" --> ") == len(parse(vtt))


PIECES = [*"ab <>&-\n\t", "-->", "&amp;", "é", "x" * 50]
text_with_markup = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 3600),
            st.floats(0, 30),
            text_with_markup,
            st.booleans(),
            st.none() | text_with_markup,
        ),
        max_size=6,
    )
)
def test_it_always_writes_parseable_captions(items):
    segments = []
    for start, length, text, with_words, speaker in items:
        words: tuple[Word, ...] = ()
        if with_words and text.split():
            pace = length / len(text.split())
            words = tuple(
                Word(start + i * pace, start + (i + 1) * pace, token, 0.5)
                for i, token in enumerate(text.split())
            )
        segments.append(Segment(start, start + length, text, words, speaker))
    segments.sort(key=lambda s: s.start)
    cues = parse(to_webvtt(Transcript("en", 4000.0, tuple(segments))))
    for start, end, _speaker, lines in cues:
        assert end > start
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    starts = [start for start, *_ in cues]
    assert starts == sorted(starts)
    # Cues of overlapping segments interleave, so compare the text written as a multiset.
    written = "".join("".join(lines) for *_, lines in cues)
    expected = "".join("".join(s.text.split()) for s in segments)
    assert Counter(written.replace(" ", "")) == Counter(expected)
