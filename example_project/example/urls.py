from __future__ import annotations

from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

from example import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("integrations/", include("patchbay.urls")),
    path("billing/", include("billing.urls")),
    path("messaging/", include("messaging.urls")),
    path("accounts/", include("accounts.urls")),
    path("files/", include("files.urls")),
    path("connections/", include("connections.urls")),
    path("organizations/", include("organizations.urls")),
]
# Static files (the upload widget's script) under any server while DEBUG is on;
# runserver serves them by itself, and this adds nothing when DEBUG is off.
urlpatterns += staticfiles_urlpatterns()
