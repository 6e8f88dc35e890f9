"""S3 demo: upload a file straight from the browser to the bucket, list, open and delete it.

The page's script (``static/files/upload.js``) asks patchbay's
``upload-credentials`` endpoint for a presigned POST, sends the file to the
bucket itself with a progress bar, then asks ``upload-confirm`` to record it
from what the bucket says. Offline (simulation on) the "bucket" is
patchbay's simulated S3 endpoint, which checks the form's policy as S3 does
and keeps the files under ``MEDIA_ROOT``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from patchbay.aws.shortcuts import delete_upload, get_upload_file_url
from patchbay.conf import conf
from patchbay.core.simulation import should_simulate
from patchbay.models import Upload

LIST_SIZE = 20
# The badge of each status (base.html's colours).
STATUS_CLASSES = {
    Upload.STATUS_COMPLETE: "healthy",
    Upload.STATUS_PENDING: "degraded",
    Upload.STATUS_FAILED: "down",
}


def _uploads(request: HttpRequest) -> dict[str, Any]:
    uploads = Upload.objects.filter(owner_id=request.user.pk).exclude(status=Upload.STATUS_DELETED)[
        :LIST_SIZE
    ]
    return {"uploads": [(upload, STATUS_CLASSES[upload.status]) for upload in uploads]}


# never_cache: Back after opening a file must show the list as it is now, not the one the
# browser kept from before an upload or a delete.
@never_cache
@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    allowed = conf.AWS_UPLOAD_ALLOWED_CONTENT_TYPES
    # A file input's accept takes types and "image/*"-style wildcards only: with any other
    # pattern ("application/vnd.oasis.opendocument.*") the picker would hide allowed files.
    expressible = all("*" not in pattern or pattern.endswith("/*") for pattern in allowed)
    context = {
        "max_size": conf.AWS_MAX_UPLOAD_SIZE,
        "allowed_types": ", ".join(allowed),
        "accept": ",".join(allowed) if expressible else "",
        "simulating": should_simulate(),
        **_uploads(request),
    }
    return render(request, "files/upload.html", context)


@never_cache
@login_required
@require_GET
def upload_list(request: HttpRequest) -> HttpResponse:
    """The list of the user's uploads alone, for the widget to refresh after each change."""
    return render(request, "files/_uploads.html", _uploads(request))


@login_required
@require_GET
def open_file(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Redirect to a fresh presigned URL of one of the user's own files.

    Made when the link is followed, not when the list is drawn, so it never
    expires on an open page and nobody else's file gets a URL.
    """
    if not Upload.objects.filter(pk=upload_id, owner_id=request.user.pk).exists():
        raise Http404("No such file.")
    result = get_upload_file_url(upload_id, expiration=300)
    if not result["success"]:
        raise Http404(result["error"])
    return HttpResponseRedirect(result["url"])


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_file(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Ask before deleting one of the user's files (GET), delete it (POST).

    A page of its own rather than a script's confirm(), so that the question
    is asked with JavaScript off too, and a stray click on Delete loses nothing.
    """
    upload = Upload.objects.filter(pk=upload_id, owner_id=request.user.pk).first()
    if upload is None:
        raise Http404("No such file.")
    if upload.status == Upload.STATUS_DELETED:
        # Back from the list after deleting lands here again: lead back to the list, no dead end.
        messages.info(request, f"{upload.original_filename} is already deleted.")
        return redirect(reverse("files:upload"))
    if request.method == "GET":
        return render(request, "files/delete.html", {"upload": upload})
    result = delete_upload(upload.pk)
    if result["success"]:
        messages.success(request, f"Deleted {upload.original_filename}.")
    else:
        messages.error(request, f"{upload.original_filename} was not deleted: {result['error']}")
    return redirect(reverse("files:upload"))
