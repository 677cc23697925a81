"""The ffmpeg runner: typed errors without file paths, timeouts, progress lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from revisit.lib.ffmpeg import (
    BASE_ARGS,
    FFMPEG,
    FfmpegError,
    input_args,
    parse_progress_line,
    run_tool,
    scrub,
)


def test_it_raises_a_typed_error_without_the_file_name(tmp_path):
    secret = tmp_path / "Carol Example - session 3.mp4"
    secret.write_text("not a recording")
    with pytest.raises(FfmpegError) as caught:
        run_tool(
            FFMPEG,
            [*BASE_ARGS, *input_args(secret), "-f", "null", "-"],
            timeout_s=30,
            paths=[secret],
        )
    error = caught.value
    assert error.returncode not in (0, None)
    assert error.stderr_tail  # ffmpeg said why
    assert "<file>" in error.stderr_tail
    for text in (str(error), error.stderr_tail):
        assert "Carol" not in text
        assert str(tmp_path) not in text


def test_it_stops_a_call_that_runs_past_its_timeout():
    endless = ["-f", "lavfi", "-i", "sine=frequency=440", "-f", "null", "-"]
    began = time.monotonic()
    with pytest.raises(FfmpegError) as caught:
        run_tool(FFMPEG, [*BASE_ARGS, *endless], timeout_s=0.5, paths=[])
    assert caught.value.timed_out
    assert time.monotonic() - began < 10


def test_it_stops_a_call_with_progress_that_runs_past_its_timeout():
    endless = ["-f", "lavfi", "-i", "sine=frequency=440", "-f", "null", "-"]
    seen: list[float] = []
    with pytest.raises(FfmpegError) as caught:
        run_tool(FFMPEG, [*BASE_ARGS, *endless], timeout_s=1.0, paths=[], progress=seen.append)
    assert caught.value.timed_out
    assert seen  # progress arrived while it ran


def test_it_reports_progress_up_to_the_end():
    two_seconds = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-f", "null", "-"]
    seen: list[float] = []
    run_tool(FFMPEG, [*BASE_ARGS, *two_seconds], timeout_s=30, paths=[], progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(2.0, abs=0.1)


def test_it_raises_a_typed_error_when_the_tool_is_missing():
    with pytest.raises(FfmpegError) as caught:
        run_tool("/nonexistent/ffmpeg", ["-version"], timeout_s=5, paths=[])
    assert caught.value.returncode is None


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("out_time_us=2020136\n", 2.020136),
        ("out_time_us=0", 0.0),
        ("out_time_us=-23220", 0.0),
        ("out_time_us=N/A", None),
        ("out_time_ms=2020136", None),
        ("out_time=00:00:02.020136", None),
        ("progress=end", None),
        ("", None),
    ],
)
def test_it_reads_out_time_from_progress_lines(line, seconds):
    assert parse_progress_line(line) == seconds


def test_it_scrubs_every_spelling_of_a_path():
    path = Path("/data/tmp/Dave Example.webm")
    text = "file:/data/tmp/Dave Example.webm: bad; /data/tmp/Dave Example.webm; Dave Example.webm"
    assert scrub(text, [path]) == "<file>: bad; <file>; <file>"


def test_it_opens_inputs_as_files_only(tmp_path):
    args = input_args(tmp_path / "http:evil")
    assert args[-1] == "file:" + str(tmp_path / "http:evil")
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert "hls" not in args[args.index("-format_whitelist") + 1].split(",")
