"""A therapist's chapter edits: rename, merge with the next, split at a time."""

from __future__ import annotations

import pytest

from revisit.lib.chapters import (
    MAX_TITLE_CHARS,
    Chapter,
    ChapterError,
    Sentence,
    merge_chapters,
    rename_chapter,
    split_chapter,
)

CHAPTERS = [
    Chapter(0.0, 100.0, "Drinking and alcohol"),
    Chapter(100.0, 250.0, "Smoking"),
    Chapter(250.0, 400.0, "Sleep"),
]


def test_it_renames_a_chapter_and_tidies_the_title():
    renamed = rename_chapter(CHAPTERS, index=1, title="  Quitting   smoking ")
    assert renamed[1] == Chapter(100.0, 250.0, "Quitting smoking")
    assert renamed[0] == CHAPTERS[0]
    assert CHAPTERS[1].title == "Smoking"


@pytest.mark.parametrize("title", ["", "   ", "x" * (MAX_TITLE_CHARS + 1)])
def test_it_refuses_empty_or_overlong_titles(title):
    with pytest.raises(ChapterError):
        rename_chapter(CHAPTERS, index=0, title=title)


def test_it_merges_a_chapter_with_the_next():
    merged = merge_chapters(CHAPTERS, index=0)
    assert merged == [Chapter(0.0, 250.0, "Drinking and alcohol"), CHAPTERS[2]]
    with pytest.raises(ChapterError):
        merge_chapters(CHAPTERS, index=2)  # the last has no next


def test_it_splits_a_chapter_at_a_time_with_a_given_title():
    split = split_chapter(CHAPTERS, index=1, at=180.0, title="Cravings")
    assert split[1:3] == [Chapter(100.0, 180.0, "Smoking"), Chapter(180.0, 250.0, "Cravings")]
    assert len(split) == 4


def test_it_titles_the_new_part_from_its_sentences():
    sentences = [
        Sentence(110.0, 120.0, "I smoke a pack of cigarettes a day."),
        Sentence(190.0, 200.0, "The nicotine patches gave me a rash."),
        Sentence(200.0, 210.0, "Nicotine gum tastes awful."),
    ]
    split = split_chapter(CHAPTERS, index=1, at=180.0, sentences=sentences)
    assert "nicotine" in split[2].title.lower()
    untitled = split_chapter(CHAPTERS, index=1, at=180.0)
    assert untitled[2].title == "Smoking (part 2)"


@pytest.mark.parametrize("at", [100.0, 250.0, 50.0, 300.0])
def test_it_refuses_to_split_outside_the_chapter(at):
    with pytest.raises(ChapterError):
        split_chapter(CHAPTERS, index=1, at=at, title="X")


@pytest.mark.parametrize("index", [-1, 3])
def test_it_refuses_chapters_that_do_not_exist(index):
    with pytest.raises(ChapterError):
        rename_chapter(CHAPTERS, index=index, title="X")
