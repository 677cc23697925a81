"""Renditions carry no titles, tags or chapters from the original."""

from __future__ import annotations

import json
import subprocess

import pytest

from revisit.lib.ffmpeg import FFMPEG, FFPROBE
from revisit.lib.ffprobe import probe
from revisit.lib.renditions import blackout_and_silence, extract_wav16k, make_audio_m4a, make_mp4
from revisit.testing.sessions import make_test_clip

SECRET = "Carol Example first session"


def tags_and_chapters(path):
    out = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            path,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out, json.loads(out)


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tags")
    plain = make_test_clip(folder / "plain.mkv", container="matroska", seconds=1.0)
    chapters = folder / "chapters.txt"
    chapters.write_text(
        f";FFMETADATA1\ntitle={SECRET}\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\n"
        f"title={SECRET} chapter\n"
    )
    src = folder / "tagged.mkv"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-i",
            plain,
            "-i",
            chapters,
            "-map",
            "0",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            "-c",
            "copy",
            "-metadata",
            f"comment={SECRET}",
            "-metadata:s:a:0",
            f"title={SECRET}",
            src,
        ],
        check=True,
        timeout=60,
    )
    raw, data = tags_and_chapters(src)
    assert SECRET in raw  # the premise: the original carries them
    assert data["chapters"]
    return src


@pytest.mark.parametrize("opus", [False, True], ids=["remux", "transcode"])
def test_it_strips_tags_and_chapters_from_the_mp4(tagged, tmp_path, opus):
    src = tagged
    if opus:
        src = tmp_path / "opus.mkv"
        subprocess.run(
            [
                FFMPEG,
                "-nostdin",
                "-v",
                "error",
                "-i",
                tagged,
                "-map",
                "0",
                "-map_metadata",
                "0",
                "-c:v",
                "copy",
                "-c:a",
                "libopus",
                src,
            ],
            check=True,
            timeout=60,
        )
    dst = tmp_path / "out.mp4"
    make_mp4(src, dst, probe(src))
    raw, data = tags_and_chapters(dst)
    assert SECRET not in raw
    assert data.get("chapters", []) == []


def test_it_strips_tags_from_the_other_renditions(tagged, tmp_path):
    info = probe(tagged)
    m4a, wav, held = tmp_path / "a.m4a", tmp_path / "a.wav", tmp_path / "held.mp4"
    make_audio_m4a(tagged, m4a, info=info)
    extract_wav16k(tagged, wav)
    blackout_and_silence(tagged, held, [(0.2, 0.4)], info)
    for path in (m4a, wav, held):
        raw, data = tags_and_chapters(path)
        assert SECRET not in raw
        assert data.get("chapters", []) == []
