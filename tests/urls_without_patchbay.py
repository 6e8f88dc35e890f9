"""A URLconf that forgot ``include("patchbay.urls")``, as a project may."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
