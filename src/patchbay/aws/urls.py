from __future__ import annotations

from django.urls import path

from patchbay.aws import simulated_views, views

urlpatterns = [
    path("uploads/credentials/", views.credentials, name="upload-credentials"),
    path("uploads/confirm/", views.confirm, name="upload-confirm"),
    path("uploads/delete/", views.delete, name="upload-delete"),
    # The simulated bucket (404 unless simulating): POST uploads, presigned GETs.
    path(
        "s3/simulated/<str:bucket>/",
        simulated_views.upload,
        name="s3-simulated-upload",
    ),
    path(
        "s3/simulated/<str:bucket>/<path:key>",
        simulated_views.object_,
        name="s3-simulated-object",
    ),
]
