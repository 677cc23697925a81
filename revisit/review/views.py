"""The client's pages: the player for one shared session, and a keep-alive for idle sign-out.

Everything the player does after the page loads goes through the review API (`revisit.api.reviews`)
and the recordings API; these views only decide who may see the page and render its frame.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from revisit.accounts.middleware import idle_timeout_for
from revisit.accounts.models import Role, User
from revisit.review.access import access_for
from revisit.review.models import ContentNote, Share
from revisit.review.reviewing import note_text
from revisit.review.selectors import share_of

API = "/api/v1"

# Plain-language anchors for the two 1-7 questions asked after a review; unlabelled points are
# shown as numbers only.
HELPFULNESS_SCALE: list[tuple[int, str]] = [
    (1, "Not at all helpful"),
    (2, ""),
    (3, ""),
    (4, "Somewhat helpful"),
    (5, ""),
    (6, ""),
    (7, "Extremely helpful"),
]
DISTRESS_SCALE: list[tuple[int, str]] = [
    (1, "Not at all distressing"),
    (2, ""),
    (3, ""),
    (4, "Moderately distressing"),
    (5, ""),
    (6, ""),
    (7, "Extremely distressing"),
]


def _client_share(request: HttpRequest, share_id: str) -> tuple[User, Share]:
    """The signed-in client's own active share, or 404 for anything else.

    Someone else's share, a revoked or expired one, and an id that names nothing all end the same
    way, so the page never tells anyone that a share exists.
    """
    user = request.user
    if not isinstance(user, User) or user.role != Role.CLIENT:
        raise Http404
    share = share_of(user=user, share_id=share_id)
    if share is None or access_for(user, share.recording) is None:
        raise Http404
    return user, share


def _content_note(share: Share) -> str:
    note = ContentNote.objects.filter(recording_id=share.recording_id).first()
    return note_text(note.text) if note is not None else ""


@never_cache
@require_GET
@login_required
def player(request: HttpRequest, share_id: str) -> HttpResponse:
    user, share = _client_share(request, share_id)
    recording = share.recording
    share_api = f"{API}/shares/{share.pk}"
    recording_api = f"{API}/recordings/{recording.pk}"
    context = {
        "share": share,
        "recording": recording,
        "content_note": _content_note(share),
        "crisis_resources": recording.practice.crisis_resources,
        "idle_timeout_s": idle_timeout_for(user),
        "urls": {
            "review": f"{share_api}/review",
            "progress": f"{share_api}/progress",
            "bookmarks": f"{share_api}/bookmarks",
            "ratings": f"{share_api}/ratings",
            "transcript": f"{recording_api}/transcript",
            "chapters": f"{recording_api}/chapters",
            "search": f"{API}/search?recording={recording.pk}",
        },
        "helpfulness_scale": HELPFULNESS_SCALE,
        "distress_scale": DISTRESS_SCALE,
    }
    return render(request, "review/player.html", context)


@never_cache
@require_GET
def still_here(request: HttpRequest) -> HttpResponse:
    """A plain request that tells the idle timer someone is present (204), or 401 if signed out.

    The idle middleware has already noted the request by the time this runs, or signed an idle
    session out and redirected.
    """
    if not isinstance(request.user, User):
        return HttpResponse(status=401)
    return HttpResponse(status=204)
