from __future__ import annotations

from django.urls import path

from patchbay.loops import views
from patchbay.loops.webhooks import LoopsWebhookView

urlpatterns = [
    path("webhooks/loops/", LoopsWebhookView.as_view(), name="loops-webhook"),
    path("login/<str:token>/", views.magic_link_login, name="magic-link-login"),
]
