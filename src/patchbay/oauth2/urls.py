"""The OAuth2 views, included in ``patchbay.urls`` (see :doc:`/oauth2`)."""

from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "oauth2/<slug:provider>/connect/",
        LazyView("patchbay.oauth2.views.connect"),
        name="oauth2-connect",
    ),
    path(
        "oauth2/<slug:provider>/callback/",
        LazyView("patchbay.oauth2.views.callback"),
        name="oauth2-callback",
    ),
    path(
        "oauth2/<slug:provider>/disconnect/",
        LazyView("patchbay.oauth2.views.disconnect"),
        name="oauth2-disconnect",
    ),
    path(
        "oauth2/<slug:provider>/simulated-authorize/",
        LazyView("patchbay.oauth2.views.simulated_authorize"),
        name="oauth2-simulated-authorize",
    ),
]
