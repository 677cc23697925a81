"""The research export: de-identified figures of consenting clients only, audited."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from revisit.audit.events import Event
from revisit.recordings.consent import consent_revoke
from revisit.recordings.models import ConsentScope
from revisit.retention.research import COLUMNS, research_export
from revisit.retention.tests.conftest import Two, consent, make_recording, make_share
from revisit.review.models import Share
from revisit.testing.actors import World, assert_audited

pytestmark = pytest.mark.django_db

UUID_LIKE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}")


def export(tmp_path: Path, name: str = "research.csv") -> list[dict[str, str]]:
    out = tmp_path / name
    research_export(path=out)
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def reviewed(world: World, two: Two) -> Two:
    consent(world, world.carol, ConsentScope.RESEARCH)
    consent(world, world.dave, ConsentScope.RESEARCH)
    make_share(world, two.carol)
    make_share(world, two.carol)
    make_share(world, two.dave)
    return two


def test_it_exports_one_row_per_review_with_the_figures(world: World, reviewed: Two, tmp_path):
    rows = export(tmp_path)
    assert len(rows) == 3 and tuple(rows[0]) == COLUMNS
    assert len({r["participant"] for r in rows}) == 2
    for row in rows:
        # carol and dave each played 0-30 s of a 60 s recording, 10-20 s twice, and rated 6 and 2.
        assert row["seconds_played"] == "30.0" and row["percent_played"] == "50"
        assert (row["replays"], row["replayed_seconds"]) == ("1", "10.0")
        assert (row["ratings"], row["helpfulness"], row["harm"]) == ("1", "6", "2")
        assert row["recording_seconds"] == "60" and row["share_ended"] == "open"
        assert float(row["share_days"]) == pytest.approx(world.practice.share_days_default, abs=0.1)
    assert sorted(int(r["review"]) for r in rows) == [1, 2, 3]


def test_it_leaves_out_a_client_who_withdrew(world: World, reviewed: Two, tmp_path):
    assert len(export(tmp_path, "before.csv")) == 3
    consent_revoke(client=world.carol, scope=ConsentScope.RESEARCH, actor=world.carol)
    rows = export(tmp_path, "after.csv")
    assert len(rows) == 1 and len({r["participant"] for r in rows}) == 1
    assert Share.objects.filter(client=world.carol).count() == 2  # nothing else changed


def test_it_leaves_out_clients_who_never_consented(world: World, two: Two, tmp_path):
    make_share(world, two.carol)
    assert export(tmp_path) == []


def test_it_writes_nothing_that_identifies_anyone(world: World, reviewed: Two, tmp_path):
    out = tmp_path / "research.csv"
    research_export(path=out)
    text = out.read_text()
    for secret in ("Carol", "carol@", "Dave", "Alice", "Session about", "private words"):
        assert secret not in text
    assert not UUID_LIKE.search(text)
    assert out.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_it_gives_new_pseudonyms_in_each_export(world: World, reviewed: Two, tmp_path):
    first = {r["participant"] for r in export(tmp_path, "a.csv")}
    second = {r["participant"] for r in export(tmp_path, "b.csv")}
    assert first.isdisjoint(second)


def test_it_audits_the_export_without_content(world: World, reviewed: Two, tmp_path):
    export(tmp_path)
    entry = assert_audited(Event.EXPORT)
    assert entry.detail == {"kind": "research", "rows": 3, "participants": 2}


def test_it_exports_one_practice_when_asked(world: World, reviewed: Two, tmp_path):
    consent(world, world.eve, ConsentScope.RESEARCH)
    make_share(world, make_recording(world, world.eve))
    out = tmp_path / "one.csv"
    assert research_export(path=out).rows == 4
    assert research_export(path=out, practice_id=world.other_practice.pk).rows == 1
