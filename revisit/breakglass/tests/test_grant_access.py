from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from revisit.breakglass.models import BreakGlassGrant
from revisit.breakglass.tests.conftest import grant_for, media, recording_of
from revisit.review.access import access_for
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread


def test_it_gives_nothing_without_a_grant(world: World, ready: Ready):
    admin = portal_client(world.ada)
    admin.get("/practice/people/")
    assert access_for(world.ada, ready.recording) is None
    assert media(admin, ready.video).status == 404


def test_it_gives_read_only_access_to_the_full_version(world: World, ready: Ready):
    grant = grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)

    access = access_for(world.ada, ready.recording)
    assert access is not None and access.variant == "full" and access.as_role == "admin"
    assert access.allow_download is False and access.break_glass == str(grant.pk)
    streamed = media(admin, ready.video, query="download=1")
    assert streamed.status == 206 and streamed.body == ready.video_bytes[:100]
    assert streamed.headers["content-disposition"] == "inline"
    page = admin.get(f"/emergency-access/{grant.pk}/recordings/{ready.recording.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/media/{ready.video.pk}" in html and 'controlslist="nodownload"' in html
    assert "download=1" not in html


def test_it_covers_one_client_only(world: World, ready: Ready):
    daves = recording_of(world, world.dave)
    grant = grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)

    assert access_for(world.ada, daves) is None
    audio = daves.renditions.get()
    assert media(admin, audio).status == 404
    assert admin.get(f"/emergency-access/{grant.pk}/recordings/{daves.pk}/").status_code == 404
    listing = admin.get(f"/emergency-access/{grant.pk}/").content.decode()
    assert str(ready.recording.pk) in listing and str(daves.pk) not in listing


def test_it_stops_when_it_expires(world: World, ready: Ready):
    grant = grant_for(world.ada, world.carol, minutes=15)
    admin = portal_client(world.ada)
    assert media(admin, ready.video).status == 206

    BreakGlassGrant.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert access_for(world.ada, ready.recording) is None
    assert media(admin, ready.video).status == 404
    assert (
        admin.get(f"/emergency-access/{grant.pk}/recordings/{ready.recording.pk}/").status_code
        == 404
    )
    assert "ended at" in admin.get(f"/emergency-access/{grant.pk}/").content.decode()


def test_it_stops_at_once_when_the_admin_ends_it(world: World, ready: Ready):
    grant = grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)
    assert media(admin, ready.video).status == 206

    assert admin.post(f"/emergency-access/{grant.pk}/end/").status_code == 302

    assert media(admin, ready.video).status == 404
    grant.refresh_from_db()
    assert grant.ended_at is not None and grant.ended_by == world.ada
    assert not grant.is_active()


def test_it_lasts_at_most_four_hours(world: World):
    grant = grant_for(world.ada, world.carol, minutes=240)
    assert grant.expires_at - grant.created_at == timedelta(hours=4)
