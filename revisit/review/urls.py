from __future__ import annotations

from django.urls import path

from revisit.review import views

urlpatterns = [
    path("still-here/", views.still_here, name="review_still_here"),
    path("<str:share_id>/", views.player, name="review_player"),
]
