from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from example import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("integrations/", include("patchbay.urls")),
    path("billing/", include("billing.urls")),
    path("messaging/", include("messaging.urls")),
    path("accounts/", include("accounts.urls")),
]
