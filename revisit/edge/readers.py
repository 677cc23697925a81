"""Opened sealed objects, kept for the next range of the same rendition.

Opening a sealed object unwraps its key with the practice's key-encryption key, reads and checks
its header and derives the payload key: about a fifth of a seek's own work. A player asks for the
same rendition every few seconds, so the media handler keeps the last ``SIZE`` opened readers,
keyed by what opening depends on: the object, its key id, its wrapped key and its stored size.
Nothing here decides access: every request is still authorized from the database first, and a
shredded object (its wrapped key gone) has no key to look up. A rotated key makes a new entry.
Every chunk served is still authenticated as it is decrypted.

Only objects of a local blob store are kept: their chunks are decrypted on the event loop's one
thread, so a kept reader is never used by two threads at once (a network store's reads are
decrypted in worker threads, and open a reader of their own per request).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from revisit.edge.grant import SealedKey
from revisit.lib.sealed import SealedReader

SIZE = 128

_readers: OrderedDict[SealedKey, SealedReader] = OrderedDict()
_lock = threading.Lock()


def reader_for(key: SealedKey, open_reader: Callable[[], SealedReader]) -> SealedReader:
    """The reader kept under ``key``, or a new one from ``open_reader`` (which may raise)."""
    with _lock:
        reader = _readers.get(key)
        if reader is not None:
            _readers.move_to_end(key)
            return reader
    reader = open_reader()
    with _lock:
        _readers[key] = reader
        while len(_readers) > SIZE:
            _readers.popitem(last=False)
    return reader


def forget_all() -> None:
    """Drop every kept reader."""
    with _lock:
        _readers.clear()
