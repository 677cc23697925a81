"""Make sure nothing under /api/ answers with an HTML error page or a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from revisit.api.problems import PROBLEM_CONTENT_TYPE, problem

log = logging.getLogger("revisit.api")

_JSON_TYPES = ("application/json", PROBLEM_CONTENT_TYPE)


class ProblemJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith(_JSON_TYPES):
            return response
        # Django's 404/405/500 pages, CSRF failures and the like become problem JSON.
        converted = problem(response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                converted[header] = response[header]
        return converted

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        log.exception("unhandled error in API request (request id only in trace)")
        return problem(500, "Something went wrong on our side. It has been logged.")
