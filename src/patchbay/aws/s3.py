"""``S3Client``: AWS S3 and S3-compatible stores (Cloudflare R2, MinIO) through boto3.

One boto3 client per process and configuration is created and reused:
building one costs milliseconds, far more than the calls themselves.
botocore's ``standard`` retry mode and explicit timeouts are set; with a
custom endpoint (R2, MinIO) checksums are computed only when required, which
those stores need from boto3 1.36 on.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote

from patchbay.aws import media_types
from patchbay.aws.results import (
    DeletedObjectResult,
    DeletedObjectSuccess,
    DownloadResult,
    DownloadSuccess,
    ObjectListResult,
    ObjectListSuccess,
    ObjectMetadataResult,
    ObjectMetadataSuccess,
    ObjectSummary,
    PresignedPostResult,
    PresignedPostSuccess,
    PresignedPutResult,
    PresignedPutSuccess,
    PresignedURLResult,
    PresignedURLSuccess,
    UploadResult,
    UploadSuccess,
)
from patchbay.aws.service import SERVICE
from patchbay.aws.simulated import presigning, store
from patchbay.conf import conf
from patchbay.core.arguments import integer, mapping, optional_text, text
from patchbay.core.client import BaseClient
from patchbay.core.request import Request
from patchbay.core.sdk import import_sdk
from patchbay.exceptions import ServiceError
from patchbay.tenancy import UNSET

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
    boto3 = import_sdk("boto3", "aws")
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

    declaration = SERVICE

    def __init__(
        self,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_s3_bucket_name: str | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        debug_mode: bool | None = None,
        *,
        tenant: object = UNSET,
    ) -> None:
        super().__init__(
            debug_mode=debug_mode,
            tenant=tenant,
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
        """The shared boto3 S3 client for this configuration (made when first needed)."""
        config = self.config
        return config.derived(
            "boto3",  # a view signs with a new S3Client each time: no lookup per signature
            lambda: _sdk_client(
                config.get("aws_access_key_id"),
                config.get("aws_secret_access_key"),
                config.get("region_name"),
                config.get("endpoint_url"),
                conf.TIMEOUT,
                conf.MAX_RETRIES,
            ),
        )

    # -- the spec's methods -------------------------------------------------------------

    def upload_file(
        self,
        file_path: str,
        object_key: str | None = None,
        public: bool = True,
        extra_args: Mapping[str, Any] | None = None,
    ) -> UploadResult:
        """Upload a local file; ``url``, ``key``, ``bucket`` and ``public``.

        ``public=True`` sets a public-read ACL only when ``AWS_S3_ALLOW_PUBLIC_ACL``
        says the bucket accepts ACLs; otherwise the object stays private and
        ``url`` is presigned.
        """
        return self.perform(UploadFile.build, file_path, object_key, public, extra_args)

    def upload_fileobj(
        self,
        file_obj: IO[bytes],
        object_key: str,
        public: bool = True,
        extra_args: Mapping[str, Any] | None = None,
    ) -> UploadResult:
        """Upload a file-like object (e.g. ``request.FILES["file"]``); as :meth:`upload_file`."""
        return self.perform(UploadFileObj.build, file_obj, object_key, public, extra_args)

    def download_file(self, object_key: str, destination: str) -> DownloadResult:
        """Download to the local path ``destination``; ``path`` and ``key``."""
        return self.perform(DownloadFile.build, object_key, destination)

    def generate_presigned_url(
        self,
        object_key: str,
        expiration: int = 3600,
        http_method: str = "GET",
        *,
        content_type: str | None = None,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> PresignedURLResult:
        """A URL that allows ``http_method`` on the object for ``expiration`` seconds: ``url``.

        For a ``GET``, ``content_type`` (the type the object was checked to be)
        sets how it is served: a type known safe to show inline with that
        type, anything else as a download, a script-capable type as
        ``application/octet-stream`` (S3's ``response-content-type`` and
        ``response-content-disposition``). ``version_id`` names the version
        served. ``etag`` binds the URL to that ETag in the simulated bucket
        only (412 for another object): in S3 an ``If-Match`` is a signed
        header, which a browser following the link cannot send, so
        :func:`~patchbay.aws.shortcuts.get_upload_file_url` checks the ETag
        before signing instead.
        """
        return self.perform(
            PresignURL.build, object_key, expiration, http_method, content_type, etag, version_id
        )

    def generate_presigned_post(
        self,
        object_key: str,
        expiration: int = 3600,
        conditions: list[Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> PresignedPostResult:
        """Form data for a direct browser upload: ``post_url`` and ``form_fields``."""
        return self.perform(PresignPost.build, object_key, expiration, conditions, fields)

    def generate_presigned_put(
        self,
        object_key: str,
        content_type: str,
        content_length: int,
        expiration: int = 3600,
        *,
        content_disposition: str | None = None,
    ) -> PresignedPutResult:
        """A presigned PUT that only accepts exactly this type and size: ``url`` and ``headers``.

        Content-Type and Content-Length (and ``content_disposition``, stored
        with the object, when given) are signed, so the store refuses any
        other file. This is how browsers upload directly to Cloudflare R2, which
        does not accept presigned POST forms.
        """
        return self.perform(
            PresignPut.build,
            object_key,
            content_type,
            content_length,
            expiration,
            content_disposition,
        )

    def list_objects(self, prefix: str = "", max_keys: int = 1000) -> ObjectListResult:
        """List keys under ``prefix``.

        Result: ``objects`` (each ``key``, ``size``, ``last_modified``, ``etag``),
        ``count`` and ``is_truncated``.
        """
        return self.perform(ListObjects.build, prefix, max_keys)

    def delete_object(self, object_key: str) -> DeletedObjectResult:
        return self.perform(DeleteObject.build, object_key)

    def get_object_metadata(self, object_key: str) -> ObjectMetadataResult:
        """Head the object: ``metadata`` with ``content_type``, ``content_length``,
        ``last_modified``, ``etag`` and the user ``metadata``; ``not_found`` if absent."""
        return self.perform(GetObjectMetadata.build, object_key)

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

    def _uploaded(self, key: str, args: Mapping[str, Any]) -> UploadSuccess:
        public = args.get("ACL") == "public-read"
        url = self.public_url(key) if public else self._signed_url(key)
        return {"success": True, "url": url, "key": key, "bucket": self.bucket, "public": public}

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

    def probe(self) -> Mapping[str, Any]:
        self.s3.head_bucket(Bucket=self.bucket)
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        if isinstance(exc, FileNotFoundError):
            return ServiceError(f"No such local file: {exc.filename}", error_code="invalid_request")
        if type(exc) is ValueError:  # boto3's own checks of its arguments (ExtraArgs...)
            return ServiceError(f"S3 refused the arguments: {exc}", error_code="invalid_request")
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


# -- the requests of the operations above --------------------------------------------------

#: The longest object key S3 accepts, in bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: The longest a SigV4 presigned URL or form may stay valid: seven days.
MAX_EXPIRATION = 7 * 24 * 3600


def object_key(value: object, name: str = "object_key") -> str:
    """``value`` if it can be an S3 key: a non-empty string of at most 1024 bytes, no NUL."""
    key = text(value, name)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ServiceError(
            f"{name} is longer than S3's {MAX_KEY_BYTES} bytes.", error_code="invalid_request"
        )
    return key


def expiration_seconds(value: object) -> int:
    return integer(value, "expiration", minimum=1, maximum=MAX_EXPIRATION)


def local_path(value: object, name: str) -> str:
    """``value`` as a local file path: a non-empty string or path (never a file descriptor)."""
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    return text(path, name)


class UploadFile(Request[UploadSuccess]):
    """A local file to upload under ``key``."""

    operation = "upload_file"

    def __init__(
        self, file_path: str, key: str, public: bool, extra_args: Mapping[str, Any] | None
    ) -> None:
        self.file_path, self.key, self.public, self.extra_args = file_path, key, public, extra_args

    @classmethod
    def build(
        cls,
        file_path: object,
        key: object,
        public: object,
        extra_args: object,
    ) -> UploadFile:
        path = local_path(file_path, "file_path")
        chosen = object_key(key) if key else path.replace("\\", "/").rsplit("/", 1)[-1]
        return cls(path, object_key(chosen), bool(public), mapping(extra_args, "extra_args"))

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key, "public": self.public}

    def send(self, client: S3Client) -> UploadSuccess:
        args = client._extra_args(self.public, self.extra_args)
        client.s3.upload_file(self.file_path, client.bucket, self.key, ExtraArgs=args or None)
        return client._uploaded(self.key, args)

    def simulate(self, client: S3Client) -> UploadSuccess:
        # The URL first: without patchbay's URLs mounted, nothing is stored.
        uploaded = client._uploaded(self.key, client._extra_args(self.public, self.extra_args))
        with open(self.file_path, "rb") as source:
            store.put(client.bucket, self.key, source, **client._local_args(self.extra_args))
        return uploaded


class UploadFileObj(Request[UploadSuccess]):
    """A file-like object to upload under ``key``."""

    operation = "upload_fileobj"

    def __init__(
        self, file_obj: IO[bytes], key: str, public: bool, extra_args: Mapping[str, Any] | None
    ) -> None:
        self.file_obj, self.key, self.public, self.extra_args = file_obj, key, public, extra_args

    @classmethod
    def build(
        cls, file_obj: object, key: object, public: object, extra_args: object
    ) -> UploadFileObj:
        if not callable(getattr(file_obj, "read", None)):
            raise ServiceError(
                f"file_obj must be a file opened for reading, not {type(file_obj).__name__}.",
                error_code="invalid_request",
            )
        return cls(
            file_obj,  # type: ignore[arg-type]  # anything with read() will do
            object_key(key),
            bool(public),
            mapping(extra_args, "extra_args"),
        )

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key, "public": self.public}

    def send(self, client: S3Client) -> UploadSuccess:
        args = client._extra_args(self.public, self.extra_args)
        client.s3.upload_fileobj(self.file_obj, client.bucket, self.key, ExtraArgs=args or None)
        return client._uploaded(self.key, args)

    def simulate(self, client: S3Client) -> UploadSuccess:
        # The URL first: without patchbay's URLs mounted, nothing is stored.
        uploaded = client._uploaded(self.key, client._extra_args(self.public, self.extra_args))
        store.put(client.bucket, self.key, self.file_obj, **client._local_args(self.extra_args))
        return uploaded


class DownloadFile(Request[DownloadSuccess]):
    operation = "download_file"

    def __init__(self, key: str, destination: str) -> None:
        self.key, self.destination = key, destination

    @classmethod
    def build(cls, key: object, destination: object) -> DownloadFile:
        return cls(object_key(key), local_path(destination, "destination"))

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key, "destination": self.destination}

    def send(self, client: S3Client) -> DownloadSuccess:
        client.s3.download_file(client.bucket, self.key, self.destination)
        return {"success": True, "path": self.destination, "key": self.key}

    def simulate(self, client: S3Client) -> DownloadSuccess:
        if store.head(client.bucket, self.key) is None:
            raise ServiceError(f"No object {self.key!r}.", error_code="not_found", status=404)
        with (
            store.open_object(client.bucket, self.key) as source,
            open(self.destination, "wb") as target,
        ):
            shutil.copyfileobj(source, target)
        return {"success": True, "path": self.destination, "key": self.key}


class PresignURL(Request[PresignedURLSuccess]):
    """A URL allowing one S3 method (``get_object``...) on an object; signed here."""

    operation = "generate_presigned_url"
    local = True  # signed here: S3 is not contacted

    def __init__(
        self,
        key: str,
        method: str,
        http_method: str,
        expiration: int,
        content_type: str | None = None,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> None:
        self.key, self.method, self.http_method = key, method, http_method
        self.expiration = expiration
        self.content_type, self.etag, self.version_id = content_type, etag, version_id

    @classmethod
    def build(
        cls,
        key: object,
        expiration: object,
        http_method: object,
        content_type: object = None,
        etag: object = None,
        version_id: object = None,
    ) -> PresignURL:
        verb = http_method.upper() if isinstance(http_method, str) else None
        method = _METHODS.get(verb or "")
        if verb is None or method is None:
            raise ServiceError(
                f"http_method must be one of {', '.join(_METHODS)}.", error_code="invalid_request"
            )
        return cls(
            object_key(key),
            method,
            verb,
            expiration_seconds(expiration),
            optional_text(content_type, "content_type", max_length=255),
            optional_text(etag, "etag", max_length=255),
            optional_text(version_id, "version_id", max_length=1024),
        )

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key, "method": self.http_method}

    def _overrides(self) -> dict[str, str]:
        """S3's ``response-*`` overrides of a GET: how the object is served (see
        :func:`patchbay.aws.media_types.serving`)."""
        if self.http_method != "GET" or self.content_type is None:
            return {}
        served = media_types.serving(self.content_type)
        return {
            "ResponseContentType": served.content_type,
            "ResponseContentDisposition": media_types.content_disposition(
                served.inline, self.key.rsplit("/", 1)[-1]
            ),
        }

    def send(self, client: S3Client) -> PresignedURLSuccess:
        # No IfMatch: it would be a signed header, and a browser following the link
        # sends none, so S3 would refuse every such URL (SignatureDoesNotMatch).
        params: dict[str, Any] = {"Bucket": client.bucket, "Key": self.key, **self._overrides()}
        if self.version_id:
            params["VersionId"] = self.version_id
        url = client.s3.generate_presigned_url(
            self.method, Params=params, ExpiresIn=self.expiration
        )
        return {"success": True, "url": url, "expires_in": self.expiration}

    def simulate(self, client: S3Client) -> PresignedURLSuccess:
        overrides = self._overrides()
        url = presigning.object_url(
            client.bucket,
            self.key,
            self.expiration,
            content_type=overrides.get("ResponseContentType"),
            content_disposition=overrides.get("ResponseContentDisposition"),
            etag=self.etag,
        )
        return {"success": True, "url": url, "expires_in": self.expiration}


class PresignPost(Request[PresignedPostSuccess]):
    """A POST form for a direct browser upload; signed here."""

    operation = "generate_presigned_post"
    local = True  # signed here: S3 is not contacted

    def __init__(
        self,
        key: str,
        expiration: int,
        conditions: list[Any] | None,
        fields: dict[str, Any] | None,
    ) -> None:
        self.key, self.expiration, self.conditions, self.fields = (
            key,
            expiration,
            conditions,
            fields,
        )

    @classmethod
    def build(
        cls, key: object, expiration: object, conditions: object, fields: object
    ) -> PresignPost:
        if conditions is not None and not isinstance(conditions, list):
            raise ServiceError(
                "conditions must be a list of S3 POST policy conditions.",
                error_code="invalid_request",
            )
        return cls(
            object_key(key),
            expiration_seconds(expiration),
            conditions,
            mapping(fields, "fields") if fields is not None else None,
        )

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key, "expiration": self.expiration}

    def send(self, client: S3Client) -> PresignedPostSuccess:
        post = client.s3.generate_presigned_post(
            client.bucket,
            self.key,
            Fields=self.fields,
            Conditions=self.conditions,
            ExpiresIn=self.expiration,
        )
        return {
            "success": True,
            "post_url": post["url"],
            "form_fields": post["fields"],
            "expires_in": self.expiration,
        }

    def simulate(self, client: S3Client) -> PresignedPostSuccess:
        post = presigning.presigned_post(
            client.bucket, self.key, self.expiration, self.conditions, self.fields
        )
        return {
            "success": True,
            "post_url": post["post_url"],
            "form_fields": post["form_fields"],
            "expires_in": self.expiration,
        }


class PresignPut(Request[PresignedPutSuccess]):
    """A PUT URL that accepts exactly one content type and size; signed here."""

    operation = "generate_presigned_put"
    local = True  # signed here: S3 is not contacted

    def __init__(
        self,
        key: str,
        content_type: str,
        content_length: int,
        expiration: int,
        content_disposition: str | None = None,
    ) -> None:
        self.key, self.content_type = key, content_type
        self.content_length, self.expiration = content_length, expiration
        self.content_disposition = content_disposition

    @classmethod
    def build(
        cls,
        key: object,
        content_type: object,
        content_length: object,
        expiration: object,
        content_disposition: object = None,
    ) -> PresignPut:
        return cls(
            object_key(key),
            text(content_type, "content_type", max_length=255),
            integer(content_length, "content_length", minimum=0),
            expiration_seconds(expiration),
            optional_text(content_disposition, "content_disposition", max_length=255),
        )

    def params(self) -> Mapping[str, Any]:
        return {
            "key": self.key,
            "content_type": self.content_type,
            "content_length": self.content_length,
        }

    def send(self, client: S3Client) -> PresignedPutSuccess:
        params = {
            "Bucket": client.bucket,
            "Key": self.key,
            "ContentType": self.content_type,
            "ContentLength": self.content_length,
        }
        headers = {"Content-Type": self.content_type}
        if self.content_disposition:
            params["ContentDisposition"] = headers["Content-Disposition"] = self.content_disposition
        url = client.s3.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=self.expiration
        )
        return {"success": True, "url": url, "headers": headers, "expires_in": self.expiration}

    def simulate(self, client: S3Client) -> PresignedPutSuccess:
        raise ServiceError(
            "Simulated uploads use presigned POST forms; set "
            "AWS_DIRECT_UPLOAD_METHOD or simulate with the default.",
            error_code="not_supported",
        )


class ListObjects(Request[ObjectListSuccess]):
    operation = "list_objects"

    def __init__(self, prefix: str, max_keys: int) -> None:
        self.prefix, self.max_keys = prefix, max_keys

    @classmethod
    def build(cls, prefix: object, max_keys: object) -> ListObjects:
        return cls(
            optional_text(prefix, "prefix") or "",
            integer(max_keys, "max_keys", minimum=1, maximum=1000),
        )

    def params(self) -> Mapping[str, Any]:
        return {"prefix": self.prefix, "max_keys": self.max_keys}

    def send(self, client: S3Client) -> ObjectListSuccess:
        page = client.s3.list_objects_v2(
            Bucket=client.bucket, Prefix=self.prefix, MaxKeys=self.max_keys
        )
        objects: list[ObjectSummary] = [
            {
                "key": item["Key"],
                "size": item["Size"],
                "last_modified": item["LastModified"].isoformat(),
                "etag": item["ETag"],
            }
            for item in page.get("Contents", [])
        ]
        return {
            "success": True,
            "objects": objects,
            "count": len(objects),
            "is_truncated": bool(page.get("IsTruncated")),
        }

    def simulate(self, client: S3Client) -> ObjectListSuccess:
        keys = store.list_keys(client.bucket, self.prefix)
        objects: list[ObjectSummary] = []
        for key in keys[: self.max_keys]:
            head = store.head(client.bucket, key) or {}
            objects.append(
                {
                    "key": key,
                    "size": head.get("content_length"),
                    "last_modified": head.get("last_modified"),
                    "etag": head.get("etag"),
                }
            )
        return {
            "success": True,
            "objects": objects,
            "count": len(objects),
            "is_truncated": len(keys) > self.max_keys,
        }


class DeleteObject(Request[DeletedObjectSuccess]):
    operation = "delete_object"

    def __init__(self, key: str) -> None:
        self.key = key

    @classmethod
    def build(cls, key: object) -> DeleteObject:
        return cls(object_key(key))

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key}

    def send(self, client: S3Client) -> DeletedObjectSuccess:
        client.s3.delete_object(Bucket=client.bucket, Key=self.key)
        return {"success": True, "key": self.key}

    def simulate(self, client: S3Client) -> DeletedObjectSuccess:
        store.delete(client.bucket, self.key)
        return {"success": True, "key": self.key}


class GetObjectMetadata(Request[ObjectMetadataSuccess]):
    operation = "get_object_metadata"

    def __init__(self, key: str) -> None:
        self.key = key

    @classmethod
    def build(cls, key: object) -> GetObjectMetadata:
        return cls(object_key(key))

    def params(self) -> Mapping[str, Any]:
        return {"key": self.key}

    def send(self, client: S3Client) -> ObjectMetadataSuccess:
        head = client.s3.head_object(Bucket=client.bucket, Key=self.key)
        modified = head.get("LastModified")
        return {
            "success": True,
            "metadata": {
                "content_type": head.get("ContentType"),
                "content_length": head.get("ContentLength"),
                "last_modified": modified.isoformat() if modified else None,
                "etag": head.get("ETag"),
                "version_id": head.get("VersionId"),
                "metadata": head.get("Metadata", {}),
            },
        }

    def simulate(self, client: S3Client) -> ObjectMetadataSuccess:
        head = store.head(client.bucket, self.key)
        if head is None:
            raise ServiceError(f"No object {self.key!r}.", error_code="not_found", status=404)
        return {"success": True, "metadata": {**head, "version_id": None}}  # no versions kept
