"""The only place decrypted session content may touch a disk: a private scratch folder.

Each use gets its own folder (mode 0700) inside the scratch root; it is removed in `finally`, and
whatever a killed process left behind is swept when a worker starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


def scratch_root() -> Path:
    root = Path(settings.SCRATCH_DIR)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return root


@contextmanager
def private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"p-{os.getpid()}-", dir=scratch_root()))
    os.chmod(folder, 0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_private(folder: Path, name: str, blocks: Iterable[bytes]) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for block in blocks:
            handle.write(block)
    return path


def process_alive(pid: int) -> bool:
    """Whether a process of this machine is running (a zombie, killed but not reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _owner_alive(name: str) -> bool:
    parts = name.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True  # this process's own jobs: a periodic sweep must never touch them
    return process_alive(pid)


def sweep_scratch() -> int:
    """Remove private folders whose process is gone (killed mid-job); called at worker start."""
    root = scratch_root()
    removed = 0
    for entry in root.iterdir():
        if _owner_alive(entry.name):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
