"""JSON endpoints for direct uploads: credentials, confirm, delete (owner only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.http import require_POST

from patchbay.aws import shortcuts
from patchbay.conf import conf
from patchbay.core.arguments import row_id
from patchbay.models import Upload
from patchbay.results import Failure

_STATUS_FOR_ERROR = {
    "not_found": 404,
    "upload_missing": 400,
    "upload_invalid": 400,
    # Confirmed once as other bytes: the state of the upload, not the request, is at odds.
    "upload_replaced": 409,
}


def _data(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            parsed = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return request.POST.dict()


def _error(message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _forbidden(request: HttpRequest) -> JsonResponse | None:
    if conf.UPLOADS_LOGIN_REQUIRED and not request.user.is_authenticated:
        return _error("Sign in to upload files.", 403)
    return None


def _owned_upload(request: HttpRequest) -> Upload | JsonResponse:
    upload_id = row_id(_data(request).get("upload_id"))
    if upload_id is None:
        return _error("upload_id is required, as a positive integer.", 400)
    # Another tenant's upload is no upload here (the request's tenant, see TenantMiddleware).
    upload = Upload.objects.for_tenant().filter(pk=upload_id).first()
    if upload is None:
        return _error("No such upload.", 404)
    user_id = request.user.pk if request.user.is_authenticated else None
    if upload.owner_id != user_id or (
        user_id is None and not _is_session_tag(request, upload.metadata.get(_SESSION_KEY))
    ):
        return _error("This upload is not yours.", 403)
    return upload


_SESSION_KEY = "_session"


def _session_tag(request: HttpRequest, algorithm: str = "sha256") -> str:
    """Who an anonymous uploader is: a hash of their session key (never the key itself)."""
    if not request.session.session_key:
        request.session.save()
    return salted_hmac(
        "patchbay.aws.upload-session", str(request.session.session_key), algorithm=algorithm
    ).hexdigest()


def _is_session_tag(request: HttpRequest, tag: object) -> bool:
    if not isinstance(tag, str):
        return False
    # Tags made before the algorithm was named are SHA-1 (salted_hmac's default then, 40 hex
    # digits); they keep working for the uploads that carry them while their session lives.
    algorithm = "sha1" if len(tag) == 40 else "sha256"
    return constant_time_compare(tag, _session_tag(request, algorithm))


# Each endpoint decides itself (PATCHBAY_UPLOADS_LOGIN_REQUIRED), and refuses in JSON
# rather than with LoginRequiredMiddleware's redirect to a login page.
@login_not_required
@require_POST
def credentials(request: HttpRequest) -> JsonResponse:
    """``filename``, ``content_type`` and optionally ``size`` → the presigned form."""
    if refused := _forbidden(request):
        return refused
    data = _data(request)
    filename = str(data.get("filename") or "").strip()
    if not filename:
        return _error("filename is required.", 400)
    size = str(data.get("size") or "")
    limit = conf.AWS_MAX_UPLOAD_SIZE
    if size.isdigit() and int(size) > limit:
        return _error(f"The file is too large: at most {limit} bytes.", 400, max_size=limit)
    result = shortcuts.get_direct_upload_form_data(
        filename,
        content_type=str(data.get("content_type") or "") or None,
        max_file_size=limit,
        owner=request.user if request.user.is_authenticated else None,
        metadata=None if request.user.is_authenticated else {_SESSION_KEY: _session_tag(request)},
        file_size=int(size) if size.isdigit() else None,
    )
    if not result["success"]:
        status = (
            400 if result["error_code"] in {"invalid_request", "content_type_not_allowed"} else 502
        )
        return _error(result["error"], status, error_code=result["error_code"])
    form: Mapping[str, Any] = result  # the keys the browser needs, by name
    return JsonResponse(
        {
            key: form[key]
            for key in (
                "form_url",
                "form_fields",
                "method",
                "headers",
                "upload_id",
                "file_url",
                "expires_in",
            )
        }
    )


@login_not_required
@require_POST
def confirm(request: HttpRequest) -> JsonResponse:
    """``upload_id`` → the upload, completed from the bucket's own facts."""
    upload = _forbidden(request) or _owned_upload(request)
    if isinstance(upload, JsonResponse):
        return upload
    result = shortcuts.complete_upload(upload.pk)
    if result["success"]:
        return JsonResponse({"upload": result["upload"]})
    return _failed(result, upload=result.get("upload"))


@login_not_required
@require_POST
def delete(request: HttpRequest) -> JsonResponse:
    """``upload_id`` → the object deleted and the upload marked deleted."""
    upload = _forbidden(request) or _owned_upload(request)
    if isinstance(upload, JsonResponse):
        return upload
    result = shortcuts.delete_upload(upload.pk)
    if result["success"]:
        return JsonResponse({"deleted": True, "upload_id": upload.pk})
    return _failed(result)


def _failed(result: Failure, **extra: Any) -> JsonResponse:
    """A shortcut's failure as the endpoint's answer, with a status for its error code."""
    return _error(
        result["error"],
        _STATUS_FOR_ERROR.get(result["error_code"], 502),
        error_code=result["error_code"],
        **extra,
    )
