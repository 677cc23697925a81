"""The /api/v1/ API: one NinjaAPI, typed routers, errors as RFC 9457 problem JSON."""

from __future__ import annotations

import logging
import re

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from revisit.api.auth import BearerAuth, PortalSessionAuth
from revisit.api.problems import problem
from revisit.ids import parse_id

log = logging.getLogger("revisit.api")
access_log = logging.getLogger("revisit.access")  # refusals, with ids only (ASVS V16.3.2)

api = NinjaAPI(
    title="Revisit API",
    version="1",
    description=(
        "Recordings, transcripts, shares and ratings. Authenticate with a personal token "
        "(`Authorization: Bearer rvt_...`) or the portal session with its CSRF token. "
        "Errors are RFC 9457 problem details."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=[BearerAuth(), PortalSessionAuth()],
)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(
        401,
        "Sign in, or send a valid token: `Authorization: Bearer rvt_...`. The token may be "
        "malformed, expired or revoked.",
        title="Not authenticated",
    )
    response["WWW-Authenticate"] = 'Bearer realm="revisit"'
    return response


@api.exception_handler(AuthorizationError)
def on_forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem(403, "You may not do this.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(part) for part in error.get("loc", [])], "msg": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return problem(
        422, "Some fields are missing or not valid.", title="Invalid request", errors=errors
    )


def _path_of_ids(request: HttpRequest) -> str:
    """The route with each path parameter shown as the id it names, or `-`: nothing else."""
    match = request.resolver_match
    if match is None:
        return "-"

    def shown(part: re.Match[str]) -> str:
        return str(parse_id(match.kwargs.get(part.group(1))) or "-")

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", shown, str(match.route))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Absent and out of reach look the same to the caller; both are noted as refusals.
    user = getattr(request, "auth", None)
    access_log.warning(
        "refused: user=%s path=%s status=404", getattr(user, "pk", "-"), _path_of_ids(request)
    )
    return problem(404, "There is nothing here, or you may not see it.")


@api.exception_handler(Exception)
def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error in API request")
    return problem(500, "Something went wrong on our side. It has been logged.")


def _register_routers() -> None:
    from revisit.api.accounts import router as accounts_router
    from revisit.api.recordings import router as recordings_router
    from revisit.api.reviews import router as reviews_router
    from revisit.api.search import router as search_router
    from revisit.api.shares import router as shares_router

    api.add_router("", accounts_router)
    api.add_router("", recordings_router)
    api.add_router("", shares_router)
    api.add_router("", reviews_router)
    api.add_router("", search_router)


_register_routers()
