"""Suite-wide pytest set-up. The environment itself is prepared by `revisit.testing.env`."""

from __future__ import annotations

import pytest

pytest_plugins = ["revisit.testing.actors", "revisit.testing.ceph", "revisit.testing.server"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast", action="store_true", help="skip tests marked slow (Ceph, long media, kills)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast"):
        return
    skip = pytest.mark.skip(reason="slow test skipped by --fast")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
