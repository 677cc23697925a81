from __future__ import annotations

from django.urls import path

from revisit.recordings import views, views_corrections

urlpatterns = [
    path("", views.recording_list, name="recording_list"),
    path("<uuid:recording_id>/", views.recording_detail, name="recording_detail"),
    path("<uuid:recording_id>/share/", views.recording_share, name="recording_share"),
    path(
        "<uuid:recording_id>/shares/<uuid:share_id>/revoke/",
        views.recording_share_revoke,
        name="recording_share_revoke",
    ),
    path("<uuid:recording_id>/holdbacks/", views.holdback_create, name="recording_holdback_add"),
    path(
        "<uuid:recording_id>/holdbacks/<uuid:holdback_id>/remove/",
        views.holdback_delete,
        name="recording_holdback_remove",
    ),
    path("<uuid:recording_id>/highlights/", views.highlight_create, name="recording_highlight_add"),
    path(
        "<uuid:recording_id>/highlights/<uuid:highlight_id>/remove/",
        views.highlight_delete,
        name="recording_highlight_remove",
    ),
    path(
        "<uuid:recording_id>/speakers/swap/",
        views_corrections.speakers_swap,
        name="recording_speakers_swap",
    ),
    path(
        "<uuid:recording_id>/chapters/",
        views_corrections.chapters_edit,
        name="recording_chapters_edit",
    ),
    path(
        "<uuid:recording_id>/content-note/",
        views.content_note_update,
        name="recording_content_note",
    ),
]
