"""The result types of the S3 client and upload shortcuts (see :mod:`patchbay.results`)."""

from __future__ import annotations

from typing import Any, TypedDict

from patchbay.results import Failure, NotRequired, Success

__all__ = [
    "DeletedObjectResult",
    "DeletedObjectSuccess",
    "DeletedUploadResult",
    "DeletedUploadSuccess",
    "DirectUploadResult",
    "DirectUploadSuccess",
    "DownloadResult",
    "DownloadSuccess",
    "ObjectListResult",
    "ObjectListSuccess",
    "ObjectMetadataResult",
    "ObjectMetadataSuccess",
    "ObjectSummary",
    "PresignedPostResult",
    "PresignedPostSuccess",
    "PresignedPutResult",
    "PresignedPutSuccess",
    "PresignedURLResult",
    "PresignedURLSuccess",
    "UploadFailure",
    "UploadRecordResult",
    "UploadRecordSuccess",
    "UploadResult",
    "UploadSuccess",
    "UploadURLResult",
    "UploadURLSuccess",
]


class UploadSuccess(Success):
    """An uploaded object: its ``url`` (public, or presigned), ``key``, ``bucket``, ``public``."""

    url: str
    key: str
    bucket: str
    public: bool


UploadResult = UploadSuccess | Failure


class DownloadSuccess(Success):
    """A downloaded object: the local ``path`` it was written to, and its ``key``."""

    path: str
    key: str


DownloadResult = DownloadSuccess | Failure


class PresignedURLSuccess(Success):
    """A presigned ``url``, valid for ``expires_in`` seconds."""

    url: str
    expires_in: int


PresignedURLResult = PresignedURLSuccess | Failure


class PresignedPostSuccess(Success):
    """A presigned POST form: post the ``form_fields`` and the file to ``post_url``."""

    post_url: str
    form_fields: dict[str, Any]
    expires_in: int


PresignedPostResult = PresignedPostSuccess | Failure


class PresignedPutSuccess(Success):
    """A presigned PUT ``url``, to send with exactly these ``headers``."""

    url: str
    headers: dict[str, str]
    expires_in: int


PresignedPutResult = PresignedPutSuccess | Failure


class ObjectSummary(TypedDict):
    """One object of :class:`ObjectListSuccess`."""

    key: str
    size: int | None
    last_modified: str | None
    etag: str | None


class ObjectListSuccess(Success):
    """Objects under a prefix: ``objects``, their ``count``, and whether more remain."""

    objects: list[ObjectSummary]
    count: int
    is_truncated: bool


ObjectListResult = ObjectListSuccess | Failure


class DeletedObjectSuccess(Success):
    """The ``key`` of the deleted object."""

    key: str


DeletedObjectResult = DeletedObjectSuccess | Failure


class ObjectMetadataSuccess(Success):
    """``metadata``: ``content_type``, ``content_length``, ``last_modified``, ``etag``,
    ``version_id`` (None unless the bucket keeps versions) and the user ``metadata``."""

    metadata: dict[str, Any]


ObjectMetadataResult = ObjectMetadataSuccess | Failure


class DirectUploadSuccess(Success):
    """:func:`~patchbay.aws.shortcuts.get_direct_upload_form_data`: where the browser uploads."""

    form_url: str
    form_fields: dict[str, Any]
    method: str
    headers: dict[str, str]
    upload_id: int
    file_url: str | None
    key: str
    expires_in: int


DirectUploadResult = DirectUploadSuccess | Failure


class UploadRecordSuccess(Success):
    """:func:`~patchbay.aws.shortcuts.complete_upload`: the ``upload`` as recorded."""

    upload: dict[str, Any]


class UploadFailure(Failure):
    """A failed upload (``upload_missing``, ``upload_invalid``) carries its ``upload``."""

    upload: NotRequired[dict[str, Any]]


UploadRecordResult = UploadRecordSuccess | UploadFailure


class UploadURLSuccess(Success):
    """:func:`~patchbay.aws.shortcuts.get_upload_file_url`: the file's ``url``."""

    url: str
    public: bool
    expires_in: NotRequired[int]


UploadURLResult = UploadURLSuccess | Failure


class DeletedUploadSuccess(Success):
    """:func:`~patchbay.aws.shortcuts.delete_upload`: the upload and key deleted."""

    upload_id: int
    key: str


DeletedUploadResult = DeletedUploadSuccess | Failure
