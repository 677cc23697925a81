"""The media handler's one-query path grants only what the full access rules grant.

`revisit.edge.grant` answers the common cases from prepared SQL and leaves the rest to
`revisit.review.access`. Each scenario below changes the world (shares, options, hold-backs,
revocation, expiry, deactivation, a lost authenticator, supervision) and then asks both, for
every person and every rendition: a fast grant must match a full grant exactly (same rendition,
same download right), and the two everyday cases must actually take the fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from revisit.accounts.models import Role, Supervision, User
from revisit.accounts.services import token_create, token_parse
from revisit.edge.grant import Caller, fast_grant, token_caller
from revisit.edge.media import TOUCH_EVERY, VIEWING_GAP
from revisit.recordings.consent import consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope, Rendition, RenditionKind
from revisit.review.access import rendition_access
from revisit.review.models import HoldBack, PlaybackSession, Share
from revisit.review.services import share_create, share_revoke
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

pytestmark = pytest.mark.django_db


def _caller(user: User) -> Caller:
    return Caller(user_id=user.pk, role=user.role, practice_id=user.practice_id)


def _fast(user: User, rendition: Rendition) -> object:
    return fast_grant(
        caller=_caller(user),
        rendition_id=rendition.pk,
        now=timezone.now(),
        viewing_gap=VIEWING_GAP,
        touch_every=TOUCH_EVERY,
    )


def _renditions(ready: Ready) -> list[Rendition]:
    return list(Rendition.objects.filter(recording=ready.recording))


def _compare_everyone(world: World, ready: Ready) -> set[tuple[str, str, str]]:
    """Check the subset rule for everyone; return the (person, kind, variant) granted fast."""
    fast_granted = set()
    for user in world.everyone():
        user.refresh_from_db()
        for rendition in _renditions(ready):
            fast = _fast(user, rendition)
            full = rendition_access(user=user, rendition_id=rendition.pk)
            if fast is None:
                continue
            assert full is not None, (user.email, rendition.kind, rendition.variant)
            assert full[0].pk == rendition.pk
            assert fast.allow_download == full[1].allow_download  # type: ignore[attr-defined]
            assert fast.sealed.id == rendition.sealed_id  # type: ignore[attr-defined]
            if user.is_staff_role:
                assert Authenticator.objects.filter(user=user).exists()
            fast_granted.add((user.email.split("@")[0], rendition.kind, rendition.variant))
    return fast_granted


def _hold_back(world: World, ready: Ready) -> None:
    HoldBack.objects.create(recording=ready.recording, start=1.0, end=2.0, created_by=world.alice)
    for kind in (RenditionKind.VIDEO, RenditionKind.AUDIO, RenditionKind.CAPTIONS):
        sealed = vault.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=b"client version"
        )
        Rendition.objects.create(
            recording=ready.recording, kind=kind, variant="client", sealed=sealed
        )


def _expire(share: Share) -> None:
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


ALICE_ALL = {("alice", "video", "full"), ("alice", "audio", "full"), ("alice", "captions", "full")}
CAROL_ALL = {("carol", "video", "full"), ("carol", "audio", "full"), ("carol", "captions", "full")}


def test_it_grants_the_therapist_fast_and_nobody_else_before_a_share(world: World, ready: Ready):
    assert _compare_everyone(world, ready) == ALICE_ALL


def test_it_grants_the_client_fast_while_shared(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    assert _compare_everyone(world, ready) == ALICE_ALL | CAROL_ALL


def test_it_follows_the_shares_options(world: World, ready: Ready):
    share_create(
        recording=ready.recording,
        actor=world.alice,
        allow_video=False,
        allow_transcript=False,
        allow_download=True,
    )
    assert _compare_everyone(world, ready) == ALICE_ALL | {("carol", "audio", "full")}


def test_it_follows_the_newest_active_share(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    newer = share_create(recording=ready.recording, actor=world.alice, allow_video=False)
    Share.objects.filter(pk=newer.pk).update(created_at=timezone.now() + timedelta(seconds=5))
    granted = _compare_everyone(world, ready)
    assert ("carol", "video", "full") not in granted
    assert ("carol", "audio", "full") in granted


@pytest.mark.parametrize("end", [share_revoke, _expire], ids=["revoked", "expired"])
def test_it_leaves_an_ended_share_to_the_full_rules(
    world: World, ready: Ready, end: Callable[..., object]
):
    share = share_create(recording=ready.recording, actor=world.alice)
    if end is share_revoke:
        share_revoke(share=share, actor=world.alice)
    else:
        _expire(share)
    assert _compare_everyone(world, ready) == ALICE_ALL


def test_it_gives_the_client_only_the_held_back_version(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    _hold_back(world, ready)
    granted = _compare_everyone(world, ready)
    assert {g for g in granted if g[0] == "carol"} == {
        ("carol", "video", "client"),
        ("carol", "audio", "client"),
        ("carol", "captions", "client"),
    }
    assert granted >= ALICE_ALL


def test_it_grants_nothing_fast_to_a_deactivated_client_or_staff_without_mfa(
    world: World, ready: Ready
):
    share_create(recording=ready.recording, actor=world.alice)
    User.objects.filter(pk=world.carol.pk).update(is_active=False)
    Authenticator.objects.filter(user=world.alice).delete()
    assert _compare_everyone(world, ready) == set()


def test_it_leaves_supervisors_to_the_full_rules(world: World, ready: Ready):
    Supervision.objects.get_or_create(
        practice=world.practice, supervisor=world.sam, therapist=world.alice
    )
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    assert rendition_access(user=world.sam, rendition_id=ready.video.pk) is not None
    assert _fast(world.sam, ready.video) is None
    assert _compare_everyone(world, ready) == ALICE_ALL


def test_it_knows_the_callers_current_viewing(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    first = _fast(world.carol, ready.video)
    assert first is not None and first.viewing_id is None  # type: ignore[attr-defined]
    viewing = PlaybackSession.objects.create(user=world.carol, rendition=ready.video)
    fresh = _fast(world.carol, ready.video)
    assert fresh.viewing_id == viewing.pk and not fresh.viewing_stale  # type: ignore[attr-defined]
    PlaybackSession.objects.filter(pk=viewing.pk).update(
        last_seen_at=timezone.now() - TOUCH_EVERY - timedelta(seconds=1)
    )
    stale = _fast(world.carol, ready.video)
    assert stale.viewing_id == viewing.pk and stale.viewing_stale  # type: ignore[attr-defined]
    PlaybackSession.objects.filter(pk=viewing.pk).update(
        last_seen_at=timezone.now() - VIEWING_GAP - timedelta(seconds=1)
    )
    assert _fast(world.carol, ready.video).viewing_id is None  # type: ignore[attr-defined]


def test_it_authenticates_tokens_exactly_as_the_api_does(world: World):
    from revisit.accounts.models import ApiToken
    from revisit.accounts.services import token_authenticate

    now = timezone.now()
    good = token_create(user=world.carol).plaintext
    revoked = token_create(user=world.dave)
    ApiToken.objects.filter(pk=revoked.token.pk).update(revoked_at=now)
    expired = token_create(user=world.alice)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=now - timedelta(seconds=1))
    inactive = token_create(user=world.bob)
    User.objects.filter(pk=world.bob.pk).update(is_active=False)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    cases = {
        "good": good,
        "revoked": revoked.plaintext,
        "expired": expired.plaintext,
        "inactive": inactive.plaintext,
        "forged secret": forged,
        "malformed": "rvt_short",
        "foreign": "Basic dXNlcjpwYXNz",
    }
    for name, raw in cases.items():
        claim = token_parse(raw=raw)
        fast = None if claim is None else token_caller(claim=claim, now=timezone.now())
        slow = token_authenticate(raw=raw)
        assert (fast is None) == (slow is None), name
        if fast is not None and slow is not None:
            assert (fast.user_id, fast.role, fast.practice_id) == (
                slow.pk,
                Role(slow.role),
                slow.practice_id,
            )
    claim = token_parse(raw=good)
    assert claim is not None
    assert token_caller(claim=claim, now=timezone.now()) is not None
