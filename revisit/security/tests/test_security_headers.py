"""Every response carries the security headers; the recorder's pages alone may use capture."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings

from revisit.security.middleware import SecurityHeadersMiddleware
from revisit.security.policy import PolicyError, policy_for_path, policy_header
from revisit.testing.actors import World, portal_client

DENIED_EVERYWHERE = ("geolocation", "payment", "usb", "serial", "hid", "midi")
CAPTURE = ("camera", "microphone", "display-capture")


def features(header: str) -> dict[str, str]:
    pairs = (item.strip().split("=", 1) for item in header.split(","))
    return {name: value for name, value in pairs}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/api/v1/openapi.json",
        "/api/v1/recordings",  # 401 problem JSON
        "/api/v1/no-such-thing",  # 404 problem JSON
        "/healthz",
        "/static/js/recorder.js",  # served by WhiteNoise, before the views
        "/recordings/new-ish/",  # a near miss of the recorder's prefix
    ],
)
def test_it_denies_capture_and_other_powerful_features(path: str):
    response = Client().get(path)
    response.close()  # a static file answers with an open file
    policy = features(response["Permissions-Policy"])
    for feature in CAPTURE + DENIED_EVERYWHERE:
        assert policy[feature] == "()", (path, feature)
    assert policy["fullscreen"] == "(self)"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/recordings/new/", "/recordings/new/consent/"])
def test_it_lets_the_recorder_use_camera_and_microphone(world: World, path: str):
    response = portal_client(world.alice).get(path)
    assert response.status_code in (200, 405)  # the consent form answers POST only
    policy = features(response["Permissions-Policy"])
    for feature in CAPTURE:
        assert policy[feature] == "(self)", feature
    for feature in DENIED_EVERYWHERE:
        assert policy[feature] == "()", feature


@pytest.mark.django_db
def test_it_sends_the_other_security_headers_on_a_page_and_an_answer(world: World):
    client = portal_client(world.alice)
    for path in ("/recordings/", "/api/v1/me"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        if path == "/recordings/":  # a page with scripts: allowed by this response's nonce
            assert "script-src 'self' 'nonce-" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_it_keeps_a_policy_that_a_view_sets():
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse()
        response["Permissions-Policy"] = "camera=(self)"
        return response

    request = HttpRequest()
    request.path = "/anything/"
    response = SecurityHeadersMiddleware(view)(request)
    assert response["Permissions-Policy"] == "camera=(self)"


def test_it_applies_the_longest_matching_prefix():
    by_path = {"/a/": {"camera": ["self"]}, "/a/b/": {"camera": [], "microphone": ["self"]}}
    with override_settings(
        PERMISSIONS_POLICY={"camera": [], "microphone": []}, PERMISSIONS_POLICY_BY_PATH=by_path
    ):
        middleware = SecurityHeadersMiddleware(lambda request: HttpResponse())
    assert middleware.policy_for("/a/x") == "camera=(self), microphone=()"
    assert middleware.policy_for("/a/b/c") == "camera=(), microphone=(self)"
    assert middleware.policy_for("/b/") == "camera=(), microphone=()"


def test_it_writes_allowlists_as_structured_fields():
    header = policy_header(
        {"geolocation": [], "camera": ["self", "https://video.example.org:8443"], "usb": ["*"]}
    )
    assert header == 'camera=(self "https://video.example.org:8443"), geolocation=(), usb=(*)'


@pytest.mark.parametrize(
    "policy",
    [
        {"camera=()": []},
        {"": []},
        {"cam era": []},
        {"camera": ["self), usb=(*"]},
        {"camera": ['"https://x.org"']},
        {"camera": ["https://x.org/path?q"]},
        {"camera": ["ftp://x.org"]},
        {"camera": ["https://x.org\r\nX-Injected: 1"]},
    ],
)
def test_it_refuses_what_would_break_or_inject_into_the_header(policy: dict[str, list[str]]):
    with pytest.raises(PolicyError):
        policy_header(policy)


def test_it_merges_overrides_into_the_base_policy():
    merged = policy_for_path(
        "/recordings/new/consent/",
        {"camera": [], "usb": []},
        {"/recordings/new/": {"camera": ["self"]}},
    )
    assert merged == {"camera": ["self"], "usb": []}
