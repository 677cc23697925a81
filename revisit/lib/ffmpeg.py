"""Running ffmpeg and ffprobe safely: argument lists, timeouts, typed errors, progress.

Every media operation in Revisit goes through :func:`run_tool`. It never uses a shell, always
sets a timeout, and turns a failure into :class:`FfmpegError`, whose message and stderr tail have
the caller's file paths replaced by placeholders, because file names may carry personal details.
Nothing here logs.

Inputs are opened through :func:`input_args`, which restricts ffmpeg to a short list of
recording containers and to the local ``file`` protocol. That keeps hostile uploads (an HLS or
concat playlist that points at other files, an image, a subtitle file) from reaching demuxers a
recording never needs.

The sibling modules build on this one: :mod:`revisit.lib.ffprobe` (what a file holds),
:mod:`revisit.lib.media_check` (limits and a full decode), :mod:`revisit.lib.renditions` (MP4,
M4A, poster, 16 kHz WAV, holding back) and :mod:`revisit.lib.waveform` (peaks for the player).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"

# Demuxers a recording may arrive in. ffmpeg matches any name in a demuxer's comma-separated
# name list, so "mov" admits the "mov,mp4,m4a,3gp,3g2,mj2" demuxer and "matroska" admits WebM.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",
    "matroska",
    "webm",
    "ogg",
    "wav",
    "mp3",
    "flac",
    "aac",
    "avi",
    "mpegts",
)

# ffmpeg's first arguments: never read the terminal, print errors only.
BASE_ARGS: tuple[str, ...] = ("-nostdin", "-hide_banner", "-v", "error")
# ffprobe has no -nostdin (standard input is closed for both tools anyway).
PROBE_BASE_ARGS: tuple[str, ...] = ("-hide_banner", "-v", "error")

STDERR_TAIL_CHARS = 2000

# A progress callback receives how many seconds of media have been processed so far.
ProgressCallback = Callable[[float], None]


class FfmpegError(Exception):
    """ffmpeg or ffprobe failed, timed out, or could not be started.

    ``stderr_tail`` holds the end of the tool's error output with the caller's paths replaced by
    ``<file>``; it is meant for operators and tests, not for end users.
    """

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        returncode: int | None,
        stderr_tail: str = "",
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.tool = tool
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.timed_out = timed_out


def input_args(path: Path, *, seek_s: float | None = None) -> list[str]:
    """The arguments that open ``path`` as a restricted input (optionally seeking first)."""
    args = [
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-protocol_whitelist",
        "file",
    ]
    if seek_s is not None:
        args += ["-ss", f"{seek_s:.3f}"]
    return [*args, "-i", file_url(path)]


def file_url(path: Path) -> str:
    """``file:`` + path, so a name such as ``http:x`` or ``-y`` is never read as something else."""
    return "file:" + os.fspath(path)


def scrub(text: str, paths: Iterable[Path]) -> str:
    """Replace every spelling of the given paths (full, ``file:`` URL, base name) in ``text``."""
    spellings: set[str] = set()
    for path in paths:
        full = os.fspath(path)
        spellings.update({file_url(path), full, os.path.abspath(full), Path(full).name})
    for spelling in sorted((s for s in spellings if s), key=len, reverse=True):
        text = text.replace(spelling, "<file>")
    return text


def _tail(data: bytes, paths: Sequence[Path]) -> str:
    text = data.decode("utf-8", errors="replace")
    return scrub(text, paths)[-STDERR_TAIL_CHARS:]


def run_tool(
    tool: str,
    args: Sequence[str],
    *,
    timeout_s: float,
    paths: Sequence[Path],
    progress: ProgressCallback | None = None,
) -> bytes:
    """Run ``tool`` with ``args`` and return its standard output.

    ``paths`` lists every file path in ``args`` so that errors can leave them out. With
    ``progress`` (ffmpeg only), ``-progress pipe:1`` is put in front of ``args`` and the callback
    receives each ``out_time`` ffmpeg reports; the standard output is then consumed and ``b""``
    is returned.
    """
    if progress is not None:
        return _run_with_progress(tool, args, timeout_s=timeout_s, paths=paths, progress=progress)
    try:
        completed = subprocess.run(
            [tool, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise FfmpegError(
            f"{tool} timed out after {timeout_s:g} s",
            tool=tool,
            returncode=None,
            stderr_tail=_tail(exc.stderr or b"", paths),
            timed_out=True,
        ) from None
    except subprocess.CalledProcessError as exc:
        raise FfmpegError(
            f"{tool} exited with status {exc.returncode}",
            tool=tool,
            returncode=exc.returncode,
            stderr_tail=_tail(exc.stderr or b"", paths),
        ) from None
    except OSError as exc:
        raise FfmpegError(
            f"{tool} could not be started ({exc.strerror})", tool=tool, returncode=None
        ) from None
    return completed.stdout


def parse_progress_line(line: str) -> float | None:
    """The seconds in an ``out_time_us=`` line of ``-progress`` output, else None."""
    key, sep, value = line.strip().partition("=")
    if not sep or key != "out_time_us":
        return None
    try:
        micros = int(value)
    except ValueError:  # "N/A" before the first frame
        return None
    return max(micros, 0) / 1_000_000


def _run_with_progress(
    tool: str,
    args: Sequence[str],
    *,
    timeout_s: float,
    paths: Sequence[Path],
    progress: ProgressCallback,
) -> bytes:
    def consume(stdout: IO[bytes]) -> None:
        for raw in stdout:
            seconds = parse_progress_line(raw.decode("ascii", errors="replace"))
            if seconds is not None:
                progress(seconds)

    run_streaming(
        tool,
        ["-progress", "pipe:1", "-nostats", *args],
        timeout_s=timeout_s,
        paths=paths,
        consume=consume,
    )
    return b""


@dataclass(frozen=True)
class ErrorOutput:
    """The first lines a tool wrote to standard error (paths scrubbed) and how many in all."""

    first_lines: tuple[str, ...]
    line_count: int


class _StderrTail:
    """Drains a pipe on a thread, keeping the first lines and the last few kilobytes."""

    def __init__(self, pipe: IO[bytes], *, keep_lines: int = 20) -> None:
        self.first_lines: list[str] = []
        self.line_count = 0
        self._keep_lines = keep_lines
        self._tail = bytearray()
        self._thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self._thread.start()

    def _drain(self, pipe: IO[bytes]) -> None:
        for raw in pipe:
            self.line_count += 1
            if len(self.first_lines) < self._keep_lines:
                self.first_lines.append(raw.decode("utf-8", errors="replace").rstrip())
            self._tail += raw
            if len(self._tail) > 4 * STDERR_TAIL_CHARS:
                del self._tail[: -2 * STDERR_TAIL_CHARS]

    def join(self) -> bytes:
        self._thread.join()
        return bytes(self._tail)


def run_streaming(
    tool: str,
    args: Sequence[str],
    *,
    timeout_s: float,
    paths: Sequence[Path],
    consume: Callable[[IO[bytes]], None],
) -> ErrorOutput:
    """Run ``tool`` and hand its standard output to ``consume`` while it runs.

    Standard error is drained on a thread so neither pipe can fill and stall the tool. The tool
    is killed when ``timeout_s`` passes or when ``consume`` raises. Returns what the tool wrote
    to standard error (at ``-v error`` ffmpeg prints only errors there); raises
    :class:`FfmpegError` on a non-zero exit or a timeout.
    """
    try:
        proc = subprocess.Popen(
            [tool, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise FfmpegError(
            f"{tool} could not be started ({exc.strerror})", tool=tool, returncode=None
        ) from None
    assert proc.stdout is not None
    assert proc.stderr is not None
    expired = threading.Event()

    def kill_on_timeout() -> None:
        expired.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill_on_timeout)
    timer.start()
    stderr = _StderrTail(proc.stderr)
    try:
        with proc.stdout:
            consume(proc.stdout)
        returncode = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        tail = stderr.join()
        proc.stderr.close()
    if expired.is_set():
        raise FfmpegError(
            f"{tool} timed out after {timeout_s:g} s",
            tool=tool,
            returncode=None,
            stderr_tail=_tail(tail, paths),
            timed_out=True,
        )
    if returncode != 0:
        raise FfmpegError(
            f"{tool} exited with status {returncode}",
            tool=tool,
            returncode=returncode,
            stderr_tail=_tail(tail, paths),
        )
    return ErrorOutput(
        first_lines=tuple(scrub(line, paths) for line in stderr.first_lines),
        line_count=stderr.line_count,
    )
