"""Post a presigned S3 form exactly as a browser would.

While simulating, :func:`patchbay.aws.shortcuts.get_direct_upload_form_data`
aims its form at patchbay's simulated bucket, which checks the policy,
signature, expiry, key, content type and size exactly as S3 does; posting
the form with :func:`post_presigned_form` tests the whole upload without a
bucket::

    result = get_direct_upload_form_data("photo.png", "image/png", max_file_size=1000)
    response = post_presigned_form(client, result["form_url"], result["form_fields"], png)
    assert response.status_code == 201  # S3's <PostResponse>; refusals are <Error> XML
    assert complete_upload(result["upload_id"])["success"]
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse


def post_presigned_form(
    client: Client,
    form_url: str,
    form_fields: Mapping[str, str],
    content: bytes,
    *,
    filename: str = "file.bin",
    content_type: str | None = None,
    extra_fields: Mapping[str, str] | None = None,
) -> _MonkeyPatchedWSGIResponse:
    """POST ``content`` to ``form_url`` as ``multipart/form-data``, as a browser's form does.

    The fields come first, in order (``form_fields``, then ``extra_fields``,
    which may also replace a value, e.g. to test a refusal), and the file
    last, named ``file``, as S3 requires. ``content_type`` is the file
    part's own type (default: guessed from ``filename``); the type S3
    stores is the ``Content-Type`` form field.
    """
    part_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    data: dict[str, object] = {**form_fields, **(extra_fields or {})}
    data.pop("file", None)
    data["file"] = SimpleUploadedFile(filename, content, content_type=part_type)
    return client.post(form_url, data)
