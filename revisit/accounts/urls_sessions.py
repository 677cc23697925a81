from __future__ import annotations

from django.urls import path

from revisit.accounts import views_sessions

urlpatterns = [
    path("security/sessions/", views_sessions.session_list, name="sessions"),
    path(
        "security/sessions/end-others/",
        views_sessions.sessions_end_others,
        name="sessions_end_others",
    ),
    path("security/sessions/<str:signin_id>/end/", views_sessions.session_end, name="session_end"),
    path(
        "practice/people/<str:user_id>/sessions/end/",
        views_sessions.member_sessions_end,
        name="member_sessions_end",
    ),
]
