"""The bucket that simulation uses: a directory of its own, outside the project.

Objects live under ``<root>/<bucket>/<key>`` with their content type and
metadata in a JSON sidecar, so every S3Client method has something real to
read, list and delete while no request leaves the machine. The root
(:func:`root`) is :setting:`PATCHBAY_SIMULATED_BUCKET_ROOT`, else
``MEDIA_ROOT/patchbay-s3`` when ``MEDIA_ROOT`` is set, else a directory of
this project under the system's temporary directory: never the working
directory, which is usually the project's repository.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage

from patchbay.conf import conf

#: The directory under ``MEDIA_ROOT``, and the prefix of the default one under the temp dir.
DIRECTORY = "patchbay-s3"
_SIDECAR = ".patchbay-meta.json"


def project_directory_name() -> str:
    """``<project>-<hash>``: one simulated bucket root per project on this machine.

    The project is ``BASE_DIR`` when the settings define it (as ``startproject``'s
    do), else the settings module and the working directory.
    """
    base_dir = getattr(settings, "BASE_DIR", None)
    identity = (
        str(base_dir) if base_dir else f"{os.environ.get('DJANGO_SETTINGS_MODULE')}:{os.getcwd()}"
    )
    name = Path(str(base_dir)).name if base_dir else Path(os.getcwd()).name
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"{name or 'project'}-{digest}"


def root() -> Path:
    """Where the simulated bucket keeps its objects (see the module's docstring)."""
    configured = conf.SIMULATED_BUCKET_ROOT
    if configured:
        return Path(configured).expanduser()
    media_root = settings.MEDIA_ROOT
    if media_root:
        return Path(media_root) / DIRECTORY
    return Path(tempfile.gettempdir()) / DIRECTORY / project_directory_name()


def _storage() -> Storage:
    return _storage_at(str(root()))


# One storage per root: settings (and so the root) may change, e.g. in tests.
@functools.lru_cache(maxsize=8)
def _storage_at(location: str) -> Storage:
    return FileSystemStorage(location=location)


def _path(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


def put(
    bucket: str,
    key: str,
    content: IO[bytes] | bytes,
    *,
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
    content_disposition: str | None = None,
) -> None:
    storage, path = _storage(), _path(bucket, key)
    for existing in (path, path + _SIDECAR):
        if storage.exists(existing):
            storage.delete(existing)
    data = ContentFile(content) if isinstance(content, bytes) else File(content)
    saved = storage.save(path, data)
    meta = {
        "content_type": content_type or mimetypes.guess_type(key)[0] or "binary/octet-stream",
        "metadata": metadata or {},
        "etag": f'"{_md5(saved)}"',
    }
    if content_disposition:
        meta["content_disposition"] = content_disposition
    storage.save(path + _SIDECAR, ContentFile(json.dumps(meta).encode()))


def head(bucket: str, key: str) -> dict[str, Any] | None:
    """Size, type, metadata and modification time, or None when there is no such object."""
    storage, path = _storage(), _path(bucket, key)
    if key.endswith(_SIDECAR) or not storage.exists(path):
        return None
    meta: dict[str, Any] = {"content_type": "binary/octet-stream", "metadata": {}}
    if storage.exists(path + _SIDECAR):
        with storage.open(path + _SIDECAR) as sidecar:
            meta.update(json.loads(sidecar.read()))
    meta.setdefault("etag", f'"{_md5(path)}"')
    return {
        "content_length": storage.size(path),
        "last_modified": _modified(path),
        **meta,
    }


def open_object(bucket: str, key: str) -> IO[bytes]:
    file: IO[bytes] = _storage().open(_path(bucket, key), "rb")
    return file


def delete(bucket: str, key: str) -> None:
    storage = _storage()
    for path in (_path(bucket, key), _path(bucket, key) + _SIDECAR):
        if storage.exists(path):
            storage.delete(path)


def list_keys(bucket: str, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` starting with ``prefix``, sorted like S3 lists them."""
    storage, top = _storage(), bucket
    found: list[str] = []

    def walk(directory: str) -> None:
        if not storage.exists(directory):
            return
        directories, files = storage.listdir(directory)
        for name in files:
            key = f"{directory}/{name}"[len(top) + 1 :]
            if not name.endswith(_SIDECAR) and key.startswith(prefix):
                found.append(key)
        for name in directories:
            walk(f"{directory}/{name}")

    walk(top)
    return sorted(found)


def _md5(path: str) -> str:
    # S3's ETag of a single-part upload is the MD5 of its bytes (not a security use).
    digest = hashlib.md5(usedforsecurity=False)
    with _storage().open(path, "rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _modified(path: str) -> str:
    try:
        return _storage().get_modified_time(path).isoformat()
    except (NotImplementedError, OSError):
        return datetime.now(timezone.utc).isoformat()
