"""Calling the raw ASGI handlers from tests, in the test's own thread and database transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    handle: Callable[[dict[str, Any], Any, Any], None],
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | Iterable[bytes] = b"",
    disconnect: bool = False,
) -> RawResponse:
    """Run `handle(scope, receive, send)` with the given request; return what it sent.

    `body` may be a list of blocks, delivered one per receive(). With `disconnect`, the client
    goes away after the last block instead of finishing the body.
    """
    parts = urlsplit(url)
    blocks = [body] if isinstance(body, bytes) else list(body)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    queue: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        more = index < len(blocks) - 1 or disconnect
        queue.append({"type": "http.request", "body": block, "more_body": more})
    if disconnect:
        queue.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    handle(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    if start is None:  # nothing was sent: the client had gone away
        return RawResponse(0, {}, b"")
    response_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return RawResponse(start["status"], response_headers, content)
