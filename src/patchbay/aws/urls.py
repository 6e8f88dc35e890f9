from __future__ import annotations

from django.urls import path

from patchbay.aws import views

urlpatterns = [
    path("uploads/credentials/", views.credentials, name="upload-credentials"),
    path("uploads/confirm/", views.confirm, name="upload-confirm"),
    path("uploads/delete/", views.delete, name="upload-delete"),
]
