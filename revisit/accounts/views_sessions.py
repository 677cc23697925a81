"""Pages for signed-in sessions: one's own list, signing out elsewhere, and an admin ending a
person's sessions. Each view parses input and calls one service or selector."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts import selectors, signins
from revisit.accounts.models import Role, User
from revisit.ids import parse_id


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has run; this keeps the type checker honest
        raise Http404
    return user


def _ended(count: int) -> str:
    if count == 0:
        return "There were no other sessions to sign out."
    return f"Signed out of {count} other session{'s' if count != 1 else ''}."


@login_required
@require_http_methods(["GET", "HEAD"])
def session_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    found = signins.signins_of(user=user, current_key=request.session.session_key)
    return render(
        request,
        "accounts/sessions.html",
        {"signins": found, "others": sum(1 for s in found if not s.is_current)},
    )


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    count = signins.sessions_end(
        user=user,
        actor=user,
        reason=signins.EndReason.SIGNED_OUT_ELSEWHERE,
        keep_key=request.session.session_key,
    )
    messages.success(request, _ended(count))
    return redirect("sessions")


@login_required
@require_POST
def session_end(request: HttpRequest, signin_id: str) -> HttpResponse:
    user = _user(request)
    row = signins.signin_of(user=user, signin_id=signin_id)
    if row is None:
        raise Http404
    count = signins.sessions_end(
        user=user,
        actor=user,
        reason=signins.EndReason.ONE_SESSION,
        keep_key=request.session.session_key,  # signing out here is what "Sign out" is for
        only=row,
    )
    messages.success(request, "Signed out of that session." if count else "It had already ended.")
    return redirect("sessions")


@login_required
@require_POST
def member_sessions_end(request: HttpRequest, user_id: str) -> HttpResponse:
    admin = _user(request)
    if admin.role != Role.ADMIN:
        raise Http404
    pk = parse_id(user_id)
    member = None if pk is None else selectors.practice_members(admin=admin).filter(pk=pk).first()
    if member is None:
        raise Http404  # nobody by that id in this practice
    count = signins.sessions_end(
        user=member,
        actor=admin,
        reason=signins.EndReason.ADMIN,
        keep_key=request.session.session_key if member.pk == admin.pk else None,
    )
    messages.success(
        request,
        f"Ended {count} session{'s' if count != 1 else ''} of {member.label}. "
        "Their API tokens are unchanged.",
    )
    return redirect("practice_people")
