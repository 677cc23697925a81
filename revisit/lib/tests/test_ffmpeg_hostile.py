"""Files that are not recordings, some built to fool a media parser, are refused by name.

Each goes through the same checks a worker runs: probe, decode, validate. A refusal is a
MediaRejected with a reason code, never an FfmpegError or a crash.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from revisit.lib.ffmpeg import FFMPEG
from revisit.lib.ffprobe import MediaRejected, RejectReason, probe
from revisit.lib.media_check import decode_check, validate_media

NOTES = b"Session notes: nothing to see here.\n" * 20
# The smallest GIF: a 1x1 image, then a ZIP archive glued on (a GIF/ZIP polyglot).
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", NOTES)
    return buffer.getvalue()


def mp3_bytes(seconds: float) -> bytes:
    return subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=duration={seconds}",
            "-c:a",
            "libmp3lame",
            "-f",
            "mp3",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def accept(path: Path) -> None:
    info = probe(path)
    report = decode_check(path, timeout_s=60)
    validate_media(info, max_duration_s=3 * 3600, max_width=3840, max_height=2160, decoded=report)


HOSTILE: dict[str, tuple[bytes, RejectReason]] = {
    "empty file": (b"", RejectReason.EMPTY),
    "plain text": (NOTES, RejectReason.NOT_MEDIA),
    "zip archive": (zip_bytes(), RejectReason.NOT_MEDIA),
    "pdf": (PDF, RejectReason.NOT_MEDIA),
    "html page": (b"<!doctype html><video src=x></video>", RejectReason.NOT_MEDIA),
    "gif/zip polyglot": (GIF + zip_bytes(), RejectReason.NOT_MEDIA),
    "hls playlist reading a local file": (
        b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n",
        RejectReason.NOT_MEDIA,
    ),
    "ffconcat list of local files": (
        b"ffconcat version 1.0\nfile /etc/hostname\n",
        RejectReason.NOT_MEDIA,
    ),
    "mp4 header over text": (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + NOTES,
        RejectReason.NOT_MEDIA,
    ),
    "webm header over text": (
        bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01" + NOTES,
        RejectReason.NOT_MEDIA,
    ),
    "mp3 tag over text": (
        b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\x00" * 16 + NOTES,
        RejectReason.NOT_MEDIA,
    ),
    # Empty MP3 frame headers: ffprobe reads half a second of "audio" out of them.
    "mp3 frame headers with no sound": (
        (b"\xff\xfb\x90\x00" + b"\x00" * 413) * 20,
        RejectReason.BAD_DURATION,
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_it_refuses_files_that_are_not_recordings(name, tmp_path):
    content, reason = HOSTILE[name]
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(MediaRejected) as caught:
        accept(path)
    assert caught.value.reason_code == reason
    assert caught.value.message.endswith(".")  # a sentence for the uploader
    assert str(tmp_path) not in caught.value.message


def test_it_refuses_a_png_image(tmp_path):
    image = tmp_path / "upload"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            image,
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(MediaRejected) as caught:
        accept(image)
    assert caught.value.reason_code == RejectReason.NOT_MEDIA


def test_it_refuses_a_pdf_with_mp3_audio_spliced_into_it(tmp_path):
    # ffprobe reads this PDF/MP3 polyglot as three seconds of MP3; decoding finds the splice.
    mp3 = mp3_bytes(3)
    half = len(mp3) // 2
    path = tmp_path / "upload"
    path.write_bytes(PDF + mp3[:half] + PDF * 8 + mp3[half:])
    assert probe(path).audio is not None  # the premise: the parser is fooled
    with pytest.raises(MediaRejected) as caught:
        accept(path)
    assert caught.value.reason_code == RejectReason.CORRUPT


def test_it_does_not_name_the_file_in_a_refusal(tmp_path):
    path = tmp_path / "Carol Example session.mp4"
    path.write_bytes(NOTES)
    with pytest.raises(MediaRejected) as caught:
        accept(path)
    assert "Carol" not in str(caught.value)
    assert "Carol" not in caught.value.message
