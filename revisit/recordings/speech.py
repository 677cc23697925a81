"""The speech model of this worker process: resolved from settings, checked, loaded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from revisit.lib import models_store, stt

_loaded: dict[Path, Any] = {}


def model_folder() -> Path:
    """The checked model folder; a known model missing from the models folder is installed."""
    name = settings.WHISPER_MODEL
    models_dir = Path(settings.MODELS_DIR)
    if name in models_store.REGISTRY and not (models_dir / name).exists():
        models_store.install(name, models_dir)
    check = models_store.resolve(
        name, models_dir=models_dir, allow_unknown=settings.WHISPER_ALLOW_UNKNOWN
    )
    return Path(check.folder)


def speech_model() -> Any:
    folder = model_folder()
    if folder not in _loaded:
        _loaded[folder] = stt.load_model(folder, threads=settings.WHISPER_THREADS)
    return _loaded[folder]


_embedders: list[Any] = []


def sentence_embedder() -> Any:
    """all-MiniLM-L6-v2 (int8 ONNX), hash-checked, loaded once per process."""
    if not _embedders:
        from revisit.lib.embed import Embedder

        _embedders.append(Embedder.default(threads=settings.WHISPER_THREADS))
    return _embedders[0]
