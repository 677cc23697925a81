from __future__ import annotations

import pytest
from django.test import Client

from revisit.testing.actors import World, api_client, portal_client

pytestmark = pytest.mark.django_db


def test_it_says_who_i_am(world: World):
    body = api_client(world.alice).get("/api/v1/me").json()
    assert body["id"] == str(world.alice.pk)
    assert body["role"] == "therapist" and body["is_trainee"] is True
    assert body["mfa_enabled"] is True
    assert body["practice"]["id"] == str(world.practice.pk)


def test_it_accepts_the_portal_session(world: World):
    assert portal_client(world.carol).get("/api/v1/me").json()["email"] == world.carol.email


def test_it_needs_csrf_for_unsafe_session_requests(world: World):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.carol, backend="allauth.account.auth_backends.AuthenticationBackend")
    response = browser.post("/api/v1/me")
    assert response.status_code in (403, 405)
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic abc", "Bearer rvt_nope", "Token rvt_x", "bearer  "],
)
def test_it_refuses_bad_authorization_headers_with_problem_json(world: World, header: str):
    response = Client(headers={"Authorization": header}).get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == 401


def test_it_refuses_a_bad_token_even_with_a_session(world: World):
    browser = portal_client(world.carol)
    response = browser.get("/api/v1/me", headers={"Authorization": "Bearer rvt_bad"})
    assert response.status_code == 401


def test_it_answers_unknown_paths_with_problem_json(world: World):
    response = api_client(world.carol).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_it_answers_wrong_methods_with_problem_json(world: World):
    response = api_client(world.carol).delete("/api/v1/me")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_it_answers_server_errors_with_problem_json_and_no_trace(world: World, monkeypatch):
    from revisit.api import accounts

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(accounts, "has_mfa", explode)
    client = api_client(world.carol)
    client.raise_request_exception = False
    response = client.get("/api/v1/me")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_it_publishes_the_openapi_schema(world: World):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me" in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_it_reports_health(world: World):
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["checks"] == {
        "database": "ok",
        "storage": "ok",
        "keys": "ok",
    }


def test_it_reports_unhealthy_keys(world: World, settings, tmp_path):
    settings.KEY_FILE = tmp_path / "missing.json"
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["keys"].startswith("error")
