"""Response headers that every Django response carries, beside those Django and django-csp set.

- `Permissions-Policy` (settings PERMISSIONS_POLICY, PERMISSIONS_POLICY_BY_PATH): camera,
  microphone, screen capture, location, payment, USB and the like are off everywhere; the
  in-browser recorder's pages turn on only what recording needs.
- `Cross-Origin-Resource-Policy: same-origin`: another site cannot embed our responses (session
  pages, API answers) as images, media or scripts, even where a browser would send cookies.

Both headers are computed once, when the middleware is built; a view that sets its own keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from revisit.security.policy import policy_for_path, policy_header

CORP = "same-origin"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        base = settings.PERMISSIONS_POLICY
        by_path = settings.PERMISSIONS_POLICY_BY_PATH
        self.default = policy_header(base)
        # Longest prefix first, so the most specific override wins.
        self.by_path = [
            (prefix, policy_header(policy_for_path(prefix, base, by_path)))
            for prefix in sorted(by_path, key=len, reverse=True)
        ]

    def policy_for(self, path: str) -> str:
        for prefix, header in self.by_path:
            if path.startswith(prefix):
                return header
        return self.default

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.policy_for(request.path)
        if "Cross-Origin-Resource-Policy" not in response:
            response["Cross-Origin-Resource-Policy"] = CORP
        return response
