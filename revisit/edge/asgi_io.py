"""Small helpers to answer raw ASGI requests from synchronous code running in a worker thread."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import async_to_sync

Send = Callable[[dict[str, Any]], None]


class ClientDisconnected(Exception):
    """The client went away before sending its whole body."""


def header_map(scope: dict[str, Any]) -> dict[str, str]:
    """Request headers by lower-case name (the last one wins; tus headers are single-valued)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        headers[raw_name.decode("latin-1").lower()] = raw_value.decode("latin-1")
    return headers


def body_blocks(receive: Callable[[], Any]) -> Iterator[bytes]:
    """Yield the request body as it arrives; raise ClientDisconnected if the client goes away."""
    pull = async_to_sync(receive)
    while True:
        message = pull()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


def respond(
    send: Send,
    status: int,
    headers: dict[str, str] | list[tuple[str, str]],
    body: bytes = b"",
) -> None:
    items = headers.items() if isinstance(headers, dict) else headers
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in items]
    if not any(name == b"content-length" for name, _ in raw):
        raw.append((b"content-length", str(len(body)).encode()))
    send({"type": "http.response.start", "status": status, "headers": raw})
    send({"type": "http.response.body", "body": body})


def problem_body(status: int, title: str, detail: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
