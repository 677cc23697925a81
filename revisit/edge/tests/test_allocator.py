"""The web workers' allocator tuning takes effect on this (glibc) system, and only via mallopt."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from revisit.edge.allocator import tune_allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is a glibc interface")
def test_it_is_accepted_by_glibc() -> None:
    assert ctypes.util.find_library("c") is not None
    assert tune_allocator() is True


def test_it_does_nothing_without_a_c_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert tune_allocator() is False
