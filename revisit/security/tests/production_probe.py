"""Run in a separate process with production settings: print what a browser would receive.

`python -m revisit.security.tests.production_probe` prints one JSON object: the headers and
cookies of a page over https, and the answer to plain http. Used by test_production_settings.
"""

from __future__ import annotations

import json
import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revisit.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    host = settings.ALLOWED_HOSTS[0]  # the public URL's host name
    client = Client(HTTP_HOST=host)
    page = client.get("/accounts/login/", secure=True)
    plain = client.get("/accounts/login/", secure=False)
    cookies = {
        name: {
            key: str(morsel[key]) for key in ("secure", "httponly", "samesite", "path", "domain")
        }
        for name, morsel in page.cookies.items()
    }
    print(
        json.dumps(
            {
                "status": page.status_code,
                "headers": dict(page.headers),
                "cookies": cookies,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "plain_status": plain.status_code,
                "plain_location": plain.get("Location", ""),
            }
        )
    )


if __name__ == "__main__":
    main()
