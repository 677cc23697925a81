from __future__ import annotations

from django.urls import include, path

from revisit.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.caseload, name="caseload"),
    path("practice/people/", views.practice_people, name="practice_people"),
    path("security/", views.security, name="security"),
    path("security/tokens/<str:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("invite/accept/", views.invitation_accept, name="invitation_accept"),
    path("invite/<str:key>/", views.invitation_open, name="invitation_open"),
    path("quick-exit/", views.quick_exit, name="quick_exit"),
    path("", include("revisit.accounts.urls_sessions")),
]
