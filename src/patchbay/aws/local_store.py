"""The bucket that simulation uses: objects in Django's default storage.

Objects live under ``patchbay-s3/<bucket>/<key>`` with their content type
and metadata in a JSON sidecar, so every S3Client method has something real
to read, list and delete while no request leaves the machine.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from datetime import datetime, timezone
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

ROOT = "patchbay-s3"
_SIDECAR = ".patchbay-meta.json"


def _path(bucket: str, key: str) -> str:
    return f"{ROOT}/{bucket}/{key}"


def put(
    bucket: str,
    key: str,
    content: IO[bytes] | bytes,
    *,
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    path = _path(bucket, key)
    for existing in (path, path + _SIDECAR):
        if default_storage.exists(existing):
            default_storage.delete(existing)
    data = ContentFile(content) if isinstance(content, bytes) else File(content)
    saved = default_storage.save(path, data)
    meta = {
        "content_type": content_type or mimetypes.guess_type(key)[0] or "binary/octet-stream",
        "metadata": metadata or {},
        "etag": f'"{_md5(saved)}"',
    }
    default_storage.save(path + _SIDECAR, ContentFile(json.dumps(meta).encode()))


def head(bucket: str, key: str) -> dict[str, Any] | None:
    """Size, type, metadata and modification time, or None when there is no such object."""
    path = _path(bucket, key)
    if key.endswith(_SIDECAR) or not default_storage.exists(path):
        return None
    meta: dict[str, Any] = {"content_type": "binary/octet-stream", "metadata": {}}
    if default_storage.exists(path + _SIDECAR):
        with default_storage.open(path + _SIDECAR) as sidecar:
            meta.update(json.loads(sidecar.read()))
    meta.setdefault("etag", f'"{_md5(path)}"')
    return {
        "content_length": default_storage.size(path),
        "last_modified": _modified(path),
        **meta,
    }


def open_object(bucket: str, key: str) -> IO[bytes]:
    file: IO[bytes] = default_storage.open(_path(bucket, key), "rb")
    return file


def delete(bucket: str, key: str) -> None:
    for path in (_path(bucket, key), _path(bucket, key) + _SIDECAR):
        if default_storage.exists(path):
            default_storage.delete(path)


def list_keys(bucket: str, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` starting with ``prefix``, sorted like S3 lists them."""
    root = f"{ROOT}/{bucket}"
    found: list[str] = []

    def walk(directory: str) -> None:
        if not default_storage.exists(directory):
            return
        directories, files = default_storage.listdir(directory)
        for name in files:
            key = f"{directory}/{name}"[len(root) + 1 :]
            if not name.endswith(_SIDECAR) and key.startswith(prefix):
                found.append(key)
        for name in directories:
            walk(f"{directory}/{name}")

    walk(root)
    return sorted(found)


def _md5(path: str) -> str:
    # S3's ETag of a single-part upload is the MD5 of its bytes (not a security use).
    digest = hashlib.md5(usedforsecurity=False)
    with default_storage.open(path, "rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _modified(path: str) -> str:
    try:
        return default_storage.get_modified_time(path).isoformat()
    except (NotImplementedError, OSError):
        return datetime.now(timezone.utc).isoformat()
