"""The ASGI entry point served by granian.

Two paths skip Django's request cycle so that their bytes stream instead of being buffered:
resumable uploads (`/api/v1/uploads`, sealed as they arrive) and media streaming (`/media/`,
decrypted per range).
Everything else is ordinary Django.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revisit.settings")

django_application = get_asgi_application()

from revisit.edge import media, uploads  # noqa: E402  (needs Django set up first)
from revisit.edge.allocator import tune_allocator  # noqa: E402

tune_allocator()  # this process serves media: keep large buffers in the heap (see the module)


async def _lifespan(receive: Any, send: Any) -> None:
    """Nothing to start or stop: acknowledge the server's lifespan messages."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http" and (
        scope["path"] == uploads.PREFIX or scope["path"].startswith(uploads.PREFIX + "/")
    ):
        await uploads.app(scope, receive, send)
        return
    if scope["type"] == "http" and scope["path"].startswith(media.PREFIX):
        await media.app(scope, receive, send)
        return
    await django_application(scope, receive, send)
