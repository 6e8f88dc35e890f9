"""Django ``STORAGES`` entries for django-storages' S3 backend."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


def storage_settings(
    bucket_name: str,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    static: bool = True,
    location: str = "media",
    static_location: str = "static",
    **options: Any,
) -> dict[str, Any]:
    """``STORAGES`` for S3 or R2 in ``bucket_name``, from the values it is given.

    It is called in a settings module, where ``django.conf.settings`` cannot
    be read yet: pass the values themselves (``AWS_STORAGE_BUCKET_NAME``...),
    defined above the call. ``default`` keeps media private (presigned URLs,
    no overwriting); with ``static`` a ``staticfiles`` entry serves collected
    static files publicly from its own location. ``options`` go to both
    backends (django-storages option names, e.g. ``custom_domain``). With an
    ``endpoint_url`` (R2, MinIO) the region defaults to ``auto`` and checksums
    are only sent when required, as those stores need from boto3 1.36 on.
    Without ``access_key`` boto3 finds credentials itself (an IAM role...).

    Raises :exc:`~django.core.exceptions.ImproperlyConfigured` for an empty
    bucket name, or an access key without its secret (or the reverse).
    """
    if not bucket_name or not isinstance(bucket_name, str):
        raise ImproperlyConfigured(
            f"storage_settings() needs a bucket name, got {bucket_name!r}: define "
            "AWS_STORAGE_BUCKET_NAME above the call and pass it, "
            "storage_settings(AWS_STORAGE_BUCKET_NAME, ...)."
        )
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "storage_settings() needs access_key and secret_key together "
            "(or neither, for boto3's own credentials)."
        )
    common: dict[str, Any] = {
        "bucket_name": bucket_name,
        "region_name": region_name or ("auto" if endpoint_url else "us-east-1"),
        "signature_version": "s3v4",
    }
    if access_key:
        common.update(access_key=access_key, secret_key=secret_key)
    if endpoint_url:
        from botocore.config import Config

        common.update(
            endpoint_url=endpoint_url,
            client_config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
    backend = "storages.backends.s3.S3Storage"
    # django-storages would read AWS_S3_CUSTOM_DOMAIN itself and serve private media
    # unsigned from it: media gets a custom domain only when passed in ``options``.
    storages: dict[str, Any] = {
        "default": {
            "BACKEND": backend,
            "OPTIONS": {
                **common,
                "location": location,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "custom_domain": None,
                **options,
            },
        }
    }
    if static:
        storages["staticfiles"] = {
            "BACKEND": backend,
            "OPTIONS": {
                **common,
                "location": static_location,
                "querystring_auth": False,
                "file_overwrite": True,
                **options,
            },
        }
    return storages
