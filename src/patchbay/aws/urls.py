from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path(
        "uploads/credentials/",
        LazyView("patchbay.aws.views.credentials"),
        name="upload-credentials",
    ),
    path("uploads/confirm/", LazyView("patchbay.aws.views.confirm"), name="upload-confirm"),
    path("uploads/delete/", LazyView("patchbay.aws.views.delete"), name="upload-delete"),
    # The simulated bucket (404 unless simulating): POST uploads, presigned GETs.
    path(
        "s3/simulated/<str:bucket>/",
        LazyView("patchbay.aws.simulated.views.upload"),
        name="s3-simulated-upload",
    ),
    path(
        "s3/simulated/<str:bucket>/<path:key>",
        LazyView("patchbay.aws.simulated.views.object_"),
        name="s3-simulated-object",
    ),
]
