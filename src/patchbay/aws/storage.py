"""Django ``STORAGES`` entries for django-storages' S3 backend, from patchbay's settings."""

from __future__ import annotations

from typing import Any

from patchbay.conf import conf


def storage_settings(
    *, static: bool = True, location: str = "media", static_location: str = "static", **options: Any
) -> dict[str, Any]:
    """``STORAGES`` for S3 or R2 from the ``AWS_*`` settings patchbay reads.

    ``default`` keeps media private (presigned URLs, no overwriting); with
    ``static`` a ``staticfiles`` entry serves collected static files publicly
    from its own location. ``options`` go to both backends (django-storages
    option names, e.g. ``custom_domain``). With ``AWS_S3_ENDPOINT_URL`` set
    (R2, MinIO) the region defaults to ``auto`` and checksums are only sent
    when required, as those stores need from boto3 1.36 on.
    """
    endpoint = conf.get("AWS_S3_ENDPOINT_URL", None) or None
    common: dict[str, Any] = {
        "bucket_name": conf.get("AWS_STORAGE_BUCKET_NAME", None),
        "region_name": conf.get("AWS_REGION", None) or ("auto" if endpoint else "us-east-1"),
        "signature_version": "s3v4",
    }
    if conf.get("AWS_ACCESS_KEY_ID", None):
        common.update(
            access_key=conf.get("AWS_ACCESS_KEY_ID"), secret_key=conf.get("AWS_SECRET_ACCESS_KEY")
        )
    if endpoint:
        from botocore.config import Config

        common.update(
            endpoint_url=endpoint,
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
