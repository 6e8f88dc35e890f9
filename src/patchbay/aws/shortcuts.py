"""Direct browser uploads tracked as :class:`~patchbay.models.Upload` rows."""

from __future__ import annotations

import mimetypes
from typing import Any, NamedTuple, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from patchbay.aws import media_types
from patchbay.aws.keys import make_key
from patchbay.aws.media_types import OPAQUE
from patchbay.aws.results import (
    DeletedUploadResult,
    DirectUploadResult,
    DirectUploadSuccess,
    UploadFailure,
    UploadRecordResult,
    UploadURLResult,
)
from patchbay.aws.s3 import S3Client
from patchbay.conf import conf
from patchbay.core.arguments import (
    integer,
    invalid_id,
    json_value,
    mapping,
    optional_integer,
    optional_text,
    refusal,
    row_id,
    text,
)
from patchbay.core.config import TENANT
from patchbay.exceptions import ServiceError
from patchbay.models import Upload
from patchbay.results import Failure, failure
from patchbay.tenancy import UNSET, tenant_scoped


def _client() -> S3Client:
    """The current tenant's client, for its upload bucket.

    ``AWS_UPLOAD_BUCKET`` names the site's upload bucket: a tenant whose own
    row configures a bucket uploads there instead.
    """
    client = S3Client()
    if not conf.AWS_UPLOAD_BUCKET:
        return client
    if client.tenant_key and client.config.sources.get("aws_s3_bucket_name") == TENANT:
        return client
    return S3Client(aws_s3_bucket_name=conf.AWS_UPLOAD_BUCKET)


def content_type_allowed(content_type: str) -> bool:
    """Whether ``content_type`` may be uploaded (``AWS_UPLOAD_ALLOWED_CONTENT_TYPES``).

    The type is parsed first (:func:`patchbay.aws.media_types.parse`: case,
    parameters and whitespace do not count; a value that is no media type is
    refused). The setting lists types or wildcards (``"image/*"``); a
    wildcard never admits a script-capable type (HTML, SVG, XML, XSL,
    JavaScript), which is allowed only where it is listed by name. The
    default lists types known safe (:data:`~patchbay.aws.media_types.SAFE_UPLOAD_TYPES`).
    """
    media_type = media_types.parse(content_type)
    return media_type is not None and media_types.allowed(
        media_type, conf.AWS_UPLOAD_ALLOWED_CONTENT_TYPES
    )


def _checked_type(original_filename: str, declared: str | None) -> str | Failure:
    """The essence of the upload's type, or the refusal of a type (or a name) not allowed."""
    content_type = declared or mimetypes.guess_type(original_filename)[0] or OPAQUE
    media_type = media_types.parse(content_type)
    if media_type is None:
        return failure(
            f"{content_type!r} is not a media type.", error_code="content_type_not_allowed"
        )
    if not content_type_allowed(media_type.essence):
        return failure(
            f"Files of type {media_type.essence} may not be uploaded.",
            error_code="content_type_not_allowed",
        )
    # A harmless declared type does not launder a name browsers and servers read as a
    # page or a script (page.html declared image/png): its own type must be allowed too.
    named = media_types.guessed(original_filename)
    if (
        named is not None
        and media_types.script_capable(named)
        and not content_type_allowed(named.essence)
    ):
        return failure(
            f"Files named like {original_filename!r} ({named.essence}) may not be uploaded.",
            error_code="content_type_not_allowed",
        )
    return media_type.essence


def direct_upload_method(client: S3Client) -> str:
    """``"post"`` or ``"put"``: ``AWS_DIRECT_UPLOAD_METHOD``, or chosen from the endpoint.

    Cloudflare R2 accepts no presigned POST forms, so ``"auto"`` (the default)
    uses presigned PUTs there and POST forms everywhere else. Simulation always
    uses POST forms, which the simulated endpoint checks as S3 would.
    """
    method = conf.AWS_DIRECT_UPLOAD_METHOD
    if client.debug_mode:
        return "post"
    if method == "auto":
        endpoint = str(client.config.get("endpoint_url") or "")
        return "put" if "r2.cloudflarestorage.com" in endpoint else "post"
    return method


@tenant_scoped
def get_direct_upload_form_data(
    original_filename: str,
    content_type: str | None = None,
    max_file_size: int | None = None,
    prefix: str | None = None,
    success_redirect_url: str | None = None,
    metadata: dict[str, Any] | None = None,
    *,
    owner: AbstractBaseUser | None = None,
    file_size: int | None = None,
    expiration: int | None = None,
    tenant: object = UNSET,
) -> DirectUploadResult:
    """Presigned upload data for one file, and its pending Upload row.

    The key is made here (``prefix/<uuid>/<sanitized name>``; ``prefix``
    defaults to ``AWS_UPLOAD_PREFIX``). With a POST form (S3, MinIO,
    simulation) the policy pins it, the bucket, the content type and a
    ``content-length-range`` up to ``max_file_size`` (default and cap:
    ``AWS_MAX_UPLOAD_SIZE``), so the bucket itself refuses anything else. With
    a presigned PUT (R2; see :func:`direct_upload_method`) the exact
    ``file_size`` is signed instead, so it is required. Result keys:
    ``form_url``, ``form_fields``, ``method`` (``"POST"``/``"PUT"``),
    ``headers`` (to send with a PUT), ``upload_id``, ``file_url`` (where the
    file will be readable), ``key`` and ``expires_in``. The form and
    ``file_url`` stay valid ``expiration`` seconds (default
    ``AWS_UPLOAD_FORM_EXPIRATION``, ten minutes): the form can be posted again
    until then, so keep it short. A type that is not allowed (see
    :func:`content_type_allowed`) is ``content_type_not_allowed``; a type not
    known safe to show (:data:`~patchbay.aws.media_types.INLINE_SAFE`) is
    stored with ``Content-Disposition: attachment``. An argument of the wrong
    type or out of range is ``invalid_request``.
    """
    if not original_filename:
        return failure("A filename is required.", error_code="invalid_request")
    try:
        checked = _UploadForm.check(
            original_filename,
            content_type,
            max_file_size,
            prefix,
            success_redirect_url,
            metadata,
            owner,
            file_size,
            expiration,
        )
    except ServiceError as exc:
        return refusal(exc)
    return _form_data(checked)


class _UploadForm(NamedTuple):
    """The arguments of :func:`get_direct_upload_form_data`, checked."""

    original_filename: str
    content_type: str | None
    max_file_size: int | None
    prefix: str | None
    success_redirect_url: str | None
    metadata: dict[str, Any]
    owner_id: Any
    file_size: int | None
    expiration: int

    @classmethod
    def check(
        cls,
        original_filename: object,
        content_type: object,
        max_file_size: object,
        prefix: object,
        success_redirect_url: object,
        metadata: object,
        owner: object,
        file_size: object,
        expiration: object,
    ) -> _UploadForm:
        if owner is not None and not isinstance(owner, AbstractBaseUser):
            raise ServiceError(
                f"owner must be a user or None, not {type(owner).__name__}.",
                error_code="invalid_request",
            )
        return cls(
            original_filename=text(original_filename, "original_filename"),
            content_type=optional_text(content_type, "content_type", max_length=255),
            max_file_size=optional_integer(max_file_size, "max_file_size"),
            prefix=None if prefix is None else text(prefix, "prefix", required=False),
            success_redirect_url=optional_text(
                success_redirect_url, "success_redirect_url", max_length=2048
            ),
            metadata=json_value(mapping(metadata, "metadata"), "metadata"),
            owner_id=owner.pk if owner is not None else None,
            file_size=optional_integer(file_size, "file_size"),
            expiration=integer(
                conf.AWS_UPLOAD_FORM_EXPIRATION if expiration is None else expiration,
                "expiration",
                minimum=1,
                maximum=7 * 24 * 3600,
            ),
        )


def _form_data(checked: _UploadForm) -> DirectUploadResult:
    original_filename, prefix = checked.original_filename, checked.prefix
    expiration, file_size = checked.expiration, checked.file_size
    success_redirect_url = checked.success_redirect_url
    content_type = _checked_type(original_filename, checked.content_type)
    if not isinstance(content_type, str):
        return content_type
    # Anything a browser would not show safely is stored as a download (S3 serves the
    # object's Content-Disposition to every reader, whatever URL they hold).
    disposition = None if media_types.serving(content_type).inline else "attachment"
    limit = conf.AWS_MAX_UPLOAD_SIZE
    if checked.max_file_size is not None:
        limit = min(checked.max_file_size, limit)
    if limit < 1:
        return failure("max_file_size must be at least 1 byte.", error_code="invalid_request")
    client = _client()
    key = make_key(original_filename, conf.AWS_UPLOAD_PREFIX if prefix is None else prefix)
    method = direct_upload_method(client)
    if method == "put":
        if file_size is None or not 1 <= file_size <= limit:
            return failure(
                f"A file_size from 1 to {limit} bytes is required for this upload.",
                error_code="invalid_request",
            )
        put = client.generate_presigned_put(
            key, content_type, file_size, expiration, content_disposition=disposition
        )
        if not put["success"]:
            return put
        target = _Target(form_url=put["url"], form_fields={}, method="PUT", headers=put["headers"])
    else:
        post = client.generate_presigned_post(
            key,
            expiration=expiration,
            conditions=_post_conditions(content_type, limit, success_redirect_url, disposition),
            fields=_post_fields(content_type, success_redirect_url, disposition),
        )
        if not post["success"]:
            return post
        target = _Target(
            form_url=post["post_url"], form_fields=post["form_fields"], method="POST", headers={}
        )
    upload = Upload.objects.create(
        key=key,
        bucket=client.bucket,
        original_filename=original_filename[:255],
        content_type=content_type,
        max_size=limit,
        metadata=checked.metadata,
        owner_id=checked.owner_id,
        simulated=client.debug_mode,
    )
    # Not bound to an ETag (there is no object yet): it lives as long as the form.
    url = client.generate_presigned_url(key, expiration=expiration, content_type=content_type)
    form: DirectUploadSuccess = {
        "success": True,
        "form_url": target.form_url,
        "form_fields": target.form_fields,
        "method": target.method,
        "headers": target.headers,
        "upload_id": upload.pk,
        "file_url": url["url"] if url["success"] else None,
        "key": key,
        "expires_in": expiration,
    }
    if client.debug_mode:
        form["simulated"] = True
    return form


class _Target(NamedTuple):
    """Where and how the browser sends the file."""

    form_url: str
    form_fields: dict[str, Any]
    method: str
    headers: dict[str, str]


def _post_fields(
    content_type: str, redirect: str | None, disposition: str | None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"Content-Type": content_type}
    if disposition:
        fields["Content-Disposition"] = disposition
    if redirect:
        fields["success_action_redirect"] = redirect
    else:
        fields["success_action_status"] = "201"
    return fields


def _post_conditions(
    content_type: str, limit: int, redirect: str | None, disposition: str | None
) -> list[Any]:
    # boto3 adds the bucket and key conditions itself; every other field needs one.
    return [
        ["content-length-range", 1, limit],
        *(
            {name: value}
            for name, value in _post_fields(content_type, redirect, disposition).items()
        ),
    ]


@tenant_scoped
def complete_upload(
    upload_id: int,
    file_size: int | None = None,
    status: str = Upload.STATUS_COMPLETE,
    error: str | None = None,
    *,
    tenant: object = UNSET,
) -> UploadRecordResult:
    """Record the outcome of an upload, from what the bucket says, never the browser.

    ``file_size`` (as the browser reports it) is ignored in favour of the
    object's real size; a missing object, or one over the limit or of another
    type, marks the upload failed (and such an object is deleted). An
    ``upload_id`` that is not a positive integer (or a string of digits) is
    ``invalid_id``; one without a row (or another tenant's), ``not_found``.
    """
    pk = row_id(upload_id)
    if pk is None:
        return _upload_failure(invalid_id("upload", upload_id))
    if status not in (Upload.STATUS_COMPLETE, Upload.STATUS_FAILED):
        return _upload_failure(
            failure(
                f"status must be {Upload.STATUS_COMPLETE!r} or {Upload.STATUS_FAILED!r}.",
                error_code="invalid_request",
            )
        )
    try:
        error = optional_text(error, "error")
    except ServiceError as exc:
        return _upload_failure(refusal(exc))
    upload = Upload.objects.for_tenant().filter(pk=pk).first()
    if upload is None:
        return _upload_failure(failure(f"No upload {pk}.", error_code="not_found"))
    if upload.status == Upload.STATUS_DELETED:
        return _upload_failure(failure("This upload was deleted.", error_code="invalid_request"))
    if status == Upload.STATUS_FAILED:
        _finish(upload, Upload.STATUS_FAILED, error or "The upload failed.")
        return {"success": True, "upload": upload.as_dict()}
    client = _client()
    head = client.get_object_metadata(upload.key)
    if not head["success"]:
        if head["error_code"] != "not_found":
            # S3 unreachable: the upload stays pending, try again later
            return _upload_failure(head)
        _finish(upload, Upload.STATUS_FAILED, "The file never reached the bucket.")
        missing: UploadFailure = {
            **failure("The file never reached the bucket.", error_code="upload_missing"),
            "upload": upload.as_dict(),
        }
        return missing
    meta = head["metadata"]
    etag = str(meta.get("etag") or "")
    if upload.etag and etag != upload.etag:
        return _replaced(upload, client)
    size = int(meta.get("content_length") or 0)
    stored = media_types.parse(meta.get("content_type") or "")
    expected = media_types.parse(upload.content_type)
    problem = None
    if size < 1 or size > upload.max_size:
        problem = f"The file is {size} bytes; the limit is {upload.max_size}."
    elif stored is None or expected is None or stored != expected:
        problem = f"The file is {meta.get('content_type') or 'untyped'}, not {upload.content_type}."
    if problem:
        client.delete_object(upload.key)
        _finish(upload, Upload.STATUS_FAILED, problem)
        invalid: UploadFailure = {
            **failure(problem, error_code="upload_invalid"),
            "upload": upload.as_dict(),
        }
        return invalid
    # What every file URL is bound to from now on (see get_upload_file_url).
    upload.size, upload.etag = size, etag
    upload.version_id = str(meta.get("version_id") or "")
    _finish(upload, Upload.STATUS_COMPLETE, "")
    return {"success": True, "upload": upload.as_dict()}


_REPLACED = "The file was replaced after it was confirmed."


def _replaced(upload: Upload, client: S3Client) -> UploadFailure:
    """Fail an upload whose object is no longer the one confirmed, and delete that object.

    Only its own form can write the key, so the uploader posted it again: what
    is there now was never checked, and the upload stays failed (its ETag is
    kept, so confirming yet another object does not complete it again).
    """
    client.delete_object(upload.key)
    _finish(upload, Upload.STATUS_FAILED, _REPLACED)
    return {**failure(_REPLACED, error_code="upload_replaced"), "upload": upload.as_dict()}


def _upload_failure(result: Failure) -> UploadFailure:
    # "upload" is NotRequired: a failure without it is an UploadFailure as it is.
    return cast("UploadFailure", result)


def _finish(upload: Upload, status: str, error: str) -> None:
    upload.status, upload.error = status, error
    upload.completed_at = timezone.now()
    upload.save(
        update_fields=[
            "status",
            "error",
            "size",
            "etag",
            "version_id",
            "completed_at",
            "updated_at",
        ]
    )


@tenant_scoped
def get_upload_file_url(
    upload_id: int, presigned: bool = False, expiration: int = 3600, *, tenant: object = UNSET
) -> UploadURLResult:
    """``url`` of a completed upload: presigned (private files always are) or public.

    The URL is bound to the object confirmed by :func:`complete_upload`: on a
    bucket that keeps versions it names that version (``versionId``);
    otherwise the object is checked first, and one with another ETag (the form
    was posted again) is deleted, the upload failed, and the answer is
    ``upload_replaced``. A presigned URL serves a type known safe to show
    inline with that type and anything else as a download
    (``response-content-type`` and ``response-content-disposition``).

    Failures: ``invalid_id`` and ``not_found``, as for :func:`complete_upload`.
    """
    pk = row_id(upload_id)
    if pk is None:
        return invalid_id("upload", upload_id)
    upload = Upload.objects.for_tenant().filter(pk=pk, status=Upload.STATUS_COMPLETE).first()
    if upload is None:
        return failure(f"No completed upload {pk}.", error_code="not_found")
    client = S3Client(aws_s3_bucket_name=upload.bucket)
    if upload.etag and not upload.version_id:
        head = client.get_object_metadata(upload.key)
        if not head["success"]:
            return head
        if str(head["metadata"].get("etag") or "") != upload.etag:
            return _replaced(upload, client)
    if upload.public and not presigned:
        return {"success": True, "url": client.public_url(upload.key), "public": True}
    result = client.generate_presigned_url(
        upload.key,
        expiration=expiration,
        content_type=upload.content_type,
        etag=upload.etag or None,
        version_id=upload.version_id or None,
    )
    return {**result, "public": False} if result["success"] else result


@tenant_scoped
def delete_upload(upload_id: int, *, tenant: object = UNSET) -> DeletedUploadResult:
    """Delete the object and mark the upload deleted (the row stays, as a record).

    Failures: ``invalid_id`` and ``not_found``, as for :func:`complete_upload`.
    """
    pk = row_id(upload_id)
    if pk is None:
        return invalid_id("upload", upload_id)
    upload = Upload.objects.for_tenant().filter(pk=pk).exclude(status=Upload.STATUS_DELETED).first()
    if upload is None:
        return failure(f"No upload {pk}.", error_code="not_found")
    result = S3Client(aws_s3_bucket_name=upload.bucket).delete_object(upload.key)
    if not result["success"]:
        return result
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.STATUS_DELETED, updated_at=timezone.now()
    )
    return {"success": True, "upload_id": upload.pk, "key": upload.key}
