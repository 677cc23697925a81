"""Suite-wide pytest set-up: an isolated data folder and no network access to model hubs."""

from __future__ import annotations

import os
import tempfile

# Every test run gets its own data folder and secret so nothing touches a developer's ./var.
_DATA_DIR = tempfile.mkdtemp(prefix="revisit-test-data-")
os.environ.setdefault("REVISIT_DATA_DIR", _DATA_DIR)
os.environ.setdefault("REVISIT_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = ["revisit.testing.ceph"]


def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    parser.addoption(
        "--fast", action="store_true", help="skip tests marked slow (Ceph, long media, kills)"
    )


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if not config.getoption("--fast"):
        return
    import pytest

    skip = pytest.mark.skip(reason="slow test skipped by --fast")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
