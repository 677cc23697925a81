"""A read-only SQLite connection on the event loop's own thread, for the media handler's queries.

Handing a media request's two indexed queries to a worker thread costs more than the queries do
(the hop and the thread switch are most of a seek's time beyond the server's own floor; see
`revisit bench stream`). On SQLite the queries read a local file in microseconds and, in WAL
mode, a reader never waits for a writer, so they can run on the loop itself. This connection is
opened per thread, with ``PRAGMA query_only`` so that nothing can write through it, and every
query it runs is one `revisit.edge.grant` also runs through Django: the rules are the same,
only the connection differs. On PostgreSQL (a network round trip that would stall every other
request on the loop) `available` is False and the handler keeps its worker thread.

Any error closes the connection and raises `LoopDatabaseError`; the handler then answers the
request the ordinary way, in a worker thread, where failures are handled and reported.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

BUSY_TIMEOUT_MS = 50  # never hold the loop longer than this waiting for a lock


class LoopDatabaseError(Exception):
    """The query could not run here; answer the request in a worker thread instead."""


class _State(threading.local):
    connection: sqlite3.Connection | None = None


_state = _State()
_converted: dict[str, str] = {}


def available() -> bool:
    """Whether media queries may run on the event loop in this process."""
    return bool(settings.MEDIA_QUERIES_ON_LOOP) and connection.vendor == "sqlite"


def _connect() -> sqlite3.Connection:
    params = connection.get_connection_params()  # the database Django uses (the test one too)
    db = sqlite3.connect(
        params["database"],
        uri=bool(params.get("uri")),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # autocommit: every query sees the latest committed state
        check_same_thread=True,
    )
    db.execute("PRAGMA query_only = ON")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


def close() -> None:
    """Close this thread's connection, if any (the next query opens a new one)."""
    db, _state.connection = _state.connection, None
    if db is not None:
        db.close()


def fetchone(sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
    """The first row of ``sql`` (written with Django's ``%s`` placeholders), or None."""
    text = _converted.get(sql)
    if text is None:
        # The grant queries hold no literal "%": every value is a parameter.
        text = _converted[sql] = sql.replace("%s", "?")
    try:
        if _state.connection is None:
            _state.connection = _connect()
        row: Sequence[Any] | None = _state.connection.execute(text, params).fetchone()
    except sqlite3.Error as exc:
        close()
        raise LoopDatabaseError(type(exc).__name__) from exc
    return row
