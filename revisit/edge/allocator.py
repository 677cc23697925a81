"""Allocator tuning for the web workers, which hand the network a megabyte of plaintext at a time.

glibc serves allocations of 128 KiB and more with a fresh ``mmap`` and returns them with
``munmap`` (and trims the heap top back to the system when much of it is free), so every batch of
decrypted media would cost hundreds of page faults and the kernel zeroing each page again:
measured here, reading and decrypting 8 MiB ranges took 0.35-0.64 CPU s/GiB with the defaults and
0.21 with large blocks kept in the heap. ``mallopt`` (glibc's documented tunables
``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``, see mallopt(3)) raises both limits; memory freed by
one request is reused by the next instead of going back to the kernel. Elsewhere (musl, other
systems) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("revisit.edge")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 8 << 20  # below this, blocks come from (and return to) the heap
TRIM_THRESHOLD = 128 << 20  # free heap kept before any is given back to the system


def tune_allocator() -> bool:
    """Apply the tunables to this process; True where glibc accepted them."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    accepted = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    if not accepted:
        log.info("the C library did not accept the allocator tunables; using its defaults")
    return accepted
