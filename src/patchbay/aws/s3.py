"""``S3Client``: AWS S3 and S3-compatible stores (Cloudflare R2, MinIO) through boto3.

One boto3 client per process and configuration is created and reused:
building one costs milliseconds, far more than the calls themselves.
botocore's ``standard`` retry mode and explicit timeouts are set; with a
custom endpoint (R2, MinIO) checksums are computed only when required, which
those stores need from boto3 1.36 on.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote

from patchbay.aws.simulated import presigning, store
from patchbay.conf import conf
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.exceptions import ServiceError
from patchbay.results import Result

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchBucket"}
_AUTH = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
_RETRYABLE = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "503", "500"}
_ERROR_CODE_IN_TEXT = re.compile(r"An error occurred \((\w+)\)")
_METHODS = {
    "GET": "get_object",
    "PUT": "put_object",
    "DELETE": "delete_object",
    "HEAD": "head_object",
}


@functools.lru_cache(maxsize=8)
def _sdk_client(
    access_key: str | None,
    secret_key: str | None,
    region: str | None,
    endpoint: str | None,
    timeout: float,
    retries: int,
) -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "connect_timeout": timeout,
        "read_timeout": timeout,
        "retries": {"mode": "standard", "total_max_attempts": retries + 1},
    }
    if endpoint:  # R2 and MinIO reject the default "when_supported" checksums
        options.update(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    return boto3.session.Session().client(
        "s3",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        endpoint_url=endpoint,
        config=Config(**options),
    )


class S3Client(BaseClient):
    """Files in one bucket: uploads, downloads, presigned URLs and forms, listing, metadata."""

    provider = "aws"
    display_name = "AWS S3"
    sdk_module = "boto3"
    extra = "aws"
    enabled_setting = "AWS_ENABLED"
    config_fields = {
        "aws_access_key_id": ConfigField(setting="AWS_ACCESS_KEY_ID", required=False),
        "aws_secret_access_key": ConfigField(
            setting="AWS_SECRET_ACCESS_KEY", secret=True, required=False
        ),
        "aws_s3_bucket_name": ConfigField(setting="AWS_STORAGE_BUCKET_NAME"),
        "region_name": ConfigField(setting="AWS_REGION", required=False),
        "endpoint_url": ConfigField(setting="AWS_S3_ENDPOINT_URL", required=False),
    }

    def __init__(
        self,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_s3_bucket_name: str | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        debug_mode: bool | None = None,
    ) -> None:
        super().__init__(
            debug_mode=debug_mode,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_s3_bucket_name=aws_s3_bucket_name,
            region_name=region_name,
            endpoint_url=endpoint_url,
        )

    @property
    def bucket(self) -> str:
        return str(self.config.get("aws_s3_bucket_name") or "patchbay-simulated")

    @property
    def s3(self) -> Any:
        """The shared boto3 S3 client for this configuration."""
        self.sdk()
        return _sdk_client(
            self.config.get("aws_access_key_id"),
            self.config.get("aws_secret_access_key"),
            self.config.get("region_name"),
            self.config.get("endpoint_url"),
            conf.TIMEOUT,
            conf.MAX_RETRIES,
        )

    # -- the spec's methods -------------------------------------------------------------

    def upload_file(
        self,
        file_path: str,
        object_key: str | None = None,
        public: bool = True,
        extra_args: Mapping[str, Any] | None = None,
    ) -> Result:
        """Upload a local file; ``url``, ``key``, ``bucket`` and ``public``.

        ``public=True`` sets a public-read ACL only when ``AWS_S3_ALLOW_PUBLIC_ACL``
        says the bucket accepts ACLs; otherwise the object stays private and
        ``url`` is presigned.
        """
        key = object_key or file_path.replace("\\", "/").rsplit("/", 1)[-1]

        def live() -> dict[str, Any]:
            args = self._extra_args(public, extra_args)
            self.s3.upload_file(file_path, self.bucket, key, ExtraArgs=args or None)
            return self._uploaded(key, args)

        def simulate() -> dict[str, Any]:
            # The URL first: without patchbay's URLs mounted, nothing is stored.
            uploaded = self._uploaded(key, self._extra_args(public, extra_args))
            with open(file_path, "rb") as source:
                store.put(self.bucket, key, source, **self._local_args(extra_args))
            return uploaded

        return self.call(
            "upload_file", live, simulate=simulate, params={"key": key, "public": public}
        )

    def upload_fileobj(
        self,
        file_obj: IO[bytes],
        object_key: str,
        public: bool = True,
        extra_args: Mapping[str, Any] | None = None,
    ) -> Result:
        """Upload a file-like object (e.g. ``request.FILES["file"]``); as :meth:`upload_file`."""

        def live() -> dict[str, Any]:
            args = self._extra_args(public, extra_args)
            self.s3.upload_fileobj(file_obj, self.bucket, object_key, ExtraArgs=args or None)
            return self._uploaded(object_key, args)

        def simulate() -> dict[str, Any]:
            # The URL first: without patchbay's URLs mounted, nothing is stored.
            uploaded = self._uploaded(object_key, self._extra_args(public, extra_args))
            store.put(self.bucket, object_key, file_obj, **self._local_args(extra_args))
            return uploaded

        return self.call(
            "upload_fileobj", live, simulate=simulate, params={"key": object_key, "public": public}
        )

    def download_file(self, object_key: str, destination: str) -> Result:
        """Download to the local path ``destination``; ``path`` and ``key``."""

        def live() -> dict[str, Any]:
            self.s3.download_file(self.bucket, object_key, destination)
            return {"path": destination, "key": object_key}

        def simulate() -> dict[str, Any]:
            if store.head(self.bucket, object_key) is None:
                raise ServiceError(f"No object {object_key!r}.", error_code="not_found", status=404)
            with (
                store.open_object(self.bucket, object_key) as source,
                open(destination, "wb") as target,
            ):
                shutil.copyfileobj(source, target)
            return {"path": destination, "key": object_key}

        return self.call(
            "download_file",
            live,
            simulate=simulate,
            params={"key": object_key, "destination": destination},
        )

    def generate_presigned_url(
        self, object_key: str, expiration: int = 3600, http_method: str = "GET"
    ) -> Result:
        """A URL that allows ``http_method`` on the object for ``expiration`` seconds: ``url``."""
        method = _METHODS.get(http_method.upper())
        if method is None:
            return self._refuse(
                "generate_presigned_url", f"http_method must be one of {', '.join(_METHODS)}."
            )

        def live() -> dict[str, Any]:
            url = self.s3.generate_presigned_url(
                method, Params={"Bucket": self.bucket, "Key": object_key}, ExpiresIn=expiration
            )
            return {"url": url, "expires_in": expiration}

        return self.call(
            "generate_presigned_url",
            live,
            params={"key": object_key, "method": http_method},
            simulate=lambda: {
                "url": presigning.object_url(self.bucket, object_key, expiration),
                "expires_in": expiration,
            },
            local=True,  # signed here: S3 is not contacted
        )

    def generate_presigned_post(
        self,
        object_key: str,
        expiration: int = 3600,
        conditions: list[Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Result:
        """Form data for a direct browser upload: ``post_url`` and ``form_fields``."""

        def live() -> dict[str, Any]:
            post = self.s3.generate_presigned_post(
                self.bucket, object_key, Fields=fields, Conditions=conditions, ExpiresIn=expiration
            )
            return {
                "post_url": post["url"],
                "form_fields": post["fields"],
                "expires_in": expiration,
            }

        def simulate() -> dict[str, Any]:
            post = presigning.presigned_post(
                self.bucket, object_key, expiration, conditions, fields
            )
            return {**post, "expires_in": expiration}

        return self.call(
            "generate_presigned_post",
            live,
            simulate=simulate,
            params={"key": object_key, "expiration": expiration},
            local=True,  # signed here: S3 is not contacted
        )

    def generate_presigned_put(
        self, object_key: str, content_type: str, content_length: int, expiration: int = 3600
    ) -> Result:
        """A presigned PUT that only accepts exactly this type and size: ``url`` and ``headers``.

        Content-Type and Content-Length are signed, so the store refuses any
        other file. This is how browsers upload directly to Cloudflare R2, which
        does not accept presigned POST forms.
        """
        params = {
            "Bucket": self.bucket,
            "Key": object_key,
            "ContentType": content_type,
            "ContentLength": int(content_length),
        }

        def live() -> dict[str, Any]:
            url = self.s3.generate_presigned_url("put_object", Params=params, ExpiresIn=expiration)
            return {"url": url, "headers": {"Content-Type": content_type}, "expires_in": expiration}

        def simulate() -> dict[str, Any]:
            raise ServiceError(
                "Simulated uploads use presigned POST forms; set "
                "AWS_DIRECT_UPLOAD_METHOD or simulate with the default.",
                error_code="not_supported",
            )

        return self.call(
            "generate_presigned_put",
            live,
            simulate=simulate,
            params={
                "key": object_key,
                "content_type": content_type,
                "content_length": content_length,
            },
            local=True,  # signed here: S3 is not contacted
        )

    def list_objects(self, prefix: str = "", max_keys: int = 1000) -> Result:
        """List keys under ``prefix``.

        Result: ``objects`` (each ``key``, ``size``, ``last_modified``, ``etag``),
        ``count`` and ``is_truncated``.
        """

        def live() -> dict[str, Any]:
            page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=max_keys)
            objects = [
                {
                    "key": item["Key"],
                    "size": item["Size"],
                    "last_modified": item["LastModified"].isoformat(),
                    "etag": item["ETag"],
                }
                for item in page.get("Contents", [])
            ]
            return {
                "objects": objects,
                "count": len(objects),
                "is_truncated": bool(page.get("IsTruncated")),
            }

        def simulate() -> dict[str, Any]:
            keys = store.list_keys(self.bucket, prefix)
            objects = []
            for key in keys[:max_keys]:
                head = store.head(self.bucket, key) or {}
                objects.append(
                    {
                        "key": key,
                        "size": head.get("content_length"),
                        "last_modified": head.get("last_modified"),
                        "etag": head.get("etag"),
                    }
                )
            return {"objects": objects, "count": len(objects), "is_truncated": len(keys) > max_keys}

        return self.call(
            "list_objects", live, simulate=simulate, params={"prefix": prefix, "max_keys": max_keys}
        )

    def delete_object(self, object_key: str) -> Result:
        def live() -> dict[str, Any]:
            self.s3.delete_object(Bucket=self.bucket, Key=object_key)
            return {"key": object_key}

        def simulate() -> dict[str, Any]:
            store.delete(self.bucket, object_key)
            return {"key": object_key}

        return self.call("delete_object", live, simulate=simulate, params={"key": object_key})

    def get_object_metadata(self, object_key: str) -> Result:
        """Head the object: ``metadata`` with ``content_type``, ``content_length``,
        ``last_modified``, ``etag`` and the user ``metadata``; ``not_found`` if absent."""

        def live() -> dict[str, Any]:
            head = self.s3.head_object(Bucket=self.bucket, Key=object_key)
            return {
                "metadata": {
                    "content_type": head.get("ContentType"),
                    "content_length": head.get("ContentLength"),
                    "last_modified": head["LastModified"].isoformat()
                    if head.get("LastModified")
                    else None,
                    "etag": head.get("ETag"),
                    "metadata": head.get("Metadata", {}),
                }
            }

        def simulate() -> dict[str, Any]:
            head = store.head(self.bucket, object_key)
            if head is None:
                raise ServiceError(f"No object {object_key!r}.", error_code="not_found", status=404)
            return {"metadata": head}

        return self.call("get_object_metadata", live, simulate=simulate, params={"key": object_key})

    # -- helpers ---------------------------------------------------------------------------

    def public_url(self, object_key: str) -> str:
        """The unsigned URL of an object (readable only if the object or bucket is public)."""
        path = quote(object_key)
        domain = conf.AWS_S3_CUSTOM_DOMAIN
        if domain:
            return f"https://{domain}/{path}"
        if self.config.get("endpoint_url"):
            return f"{str(self.config['endpoint_url']).rstrip('/')}/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{self.config.get('region_name')}.amazonaws.com/{path}"

    def _extra_args(self, public: bool, extra_args: Mapping[str, Any] | None) -> dict[str, Any]:
        args = dict(extra_args or {})
        # Most buckets refuse ACLs (Object Ownership "bucket owner enforced", the default
        # since 2023): public uploads are honoured only where the project says ACLs work.
        if public and conf.AWS_S3_ALLOW_PUBLIC_ACL:
            args.setdefault("ACL", "public-read")
        return args

    def _uploaded(self, key: str, args: Mapping[str, Any]) -> dict[str, Any]:
        public = args.get("ACL") == "public-read"
        url = self.public_url(key) if public else self._signed_url(key)
        return {"url": url, "key": key, "bucket": self.bucket, "public": public}

    def _signed_url(self, key: str) -> str:
        if self.debug_mode:
            return presigning.object_url(self.bucket, key, 3600)
        url: str = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=3600
        )
        return url

    @staticmethod
    def _local_args(extra_args: Mapping[str, Any] | None) -> dict[str, Any]:
        args = extra_args or {}
        return {"content_type": args.get("ContentType"), "metadata": args.get("Metadata")}

    def _refuse(self, operation: str, message: str) -> Result:
        def refuse() -> None:
            raise ServiceError(message, error_code="invalid_request")

        return self.call(operation, dict, simulate=dict, validate=refuse)

    def probe(self) -> Mapping[str, Any]:
        self.s3.head_bucket(Bucket=self.bucket)
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        if isinstance(exc, FileNotFoundError):
            return ServiceError(f"No such local file: {exc.filename}", error_code="invalid_request")
        try:
            from boto3 import exceptions as boto3_errors
            from botocore import exceptions as botocore_errors
        except ImportError:  # no SDK (simulating): the exception cannot be one of its own
            return super().translate_exception(exc)

        if isinstance(exc, boto3_errors.S3UploadFailedError):
            # upload_file re-raises S3's ClientError as this, chained (implicitly) to it.
            wrapped = exc.__cause__ or exc.__context__
            if isinstance(wrapped, Exception):
                return self.translate_exception(wrapped)
            # Unchained, only the text keeps the code: "... An error occurred (NoSuchBucket) ..."
            found = _ERROR_CODE_IN_TEXT.search(str(exc))
            if found is None:
                return ServiceError(f"S3 upload failed: {exc}", error_code="api_error")
            return _client_error(found.group(1), None, f"S3 upload failed: {exc}")
        if isinstance(exc, botocore_errors.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return _client_error(code, status, f"S3 error {code}: {error.get('Message') or exc}")
        if isinstance(exc, botocore_errors.NoCredentialsError):
            return ServiceError(
                "No AWS credentials: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or run with an IAM role.",
                error_code="not_configured",
            )
        if isinstance(exc, (botocore_errors.ConnectTimeoutError, botocore_errors.ReadTimeoutError)):
            return ServiceError("S3 did not answer in time.", error_code="timeout", retryable=True)
        if isinstance(exc, botocore_errors.ConnectionError):  # endpoint unreachable, reset...
            return ServiceError(
                f"Could not connect to S3: {exc}", error_code="connection_error", retryable=True
            )
        return super().translate_exception(exc)


def _client_error(code: str, status: int | None, message: str) -> ServiceError:
    """The ``ServiceError`` for S3's error ``code`` (and HTTP ``status`` when known)."""
    if code in _NOT_FOUND or status == 404:
        return ServiceError(message, error_code="not_found", status=status)
    if code in _AUTH:
        return ServiceError(message, error_code="authentication_error", status=status)
    if code == "AccessDenied" or status == 403:
        return ServiceError(message, error_code="permission_error", status=status)
    if code in _RETRYABLE or (status or 0) >= 500:
        return ServiceError(message, error_code="api_error", retryable=True, status=status)
    return ServiceError(message, error_code="invalid_request", status=status)
