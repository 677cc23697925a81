"""Navigation links for the signed-in person's role."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from revisit.accounts.middleware import idle_timeout_for
from revisit.accounts.models import Role, User


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"nav_links": []}
    links: list[tuple[str, str]] = [("Home", reverse("home"))]
    if user.role == Role.THERAPIST:
        links.append(("Clients", reverse("caseload")))
        links.append(("Recordings", reverse("recording_list")))
        links.append(("New recording", reverse("recording_new")))
    if user.role == Role.ADMIN:
        links.append(("People", reverse("practice_people")))
        links.append(("Retention", reverse("retention_policy")))
        links.append(("Emergency access", reverse("breakglass_list")))
    if user.role == Role.CLIENT:
        links.append(("Your consents", reverse("my_consents")))
    links.append(("Security", reverse("security")))
    return {
        "nav_links": links,
        "current_role": user.get_role_display(),
        "idle_timeout_s": idle_timeout_for(user),
    }
