from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from patchbay.aws.s3 import S3Client
from patchbay.models import IntegrationLog
from tests.aws.helpers import BUCKET, SECRET, bucket, policy_of

pytestmark = pytest.mark.django_db
__all__ = ["bucket"]


@pytest.fixture
def client(bucket):
    return S3Client()


def test_upload_file_is_private_by_default(client, bucket, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 fake")
    result = client.upload_file(
        str(path), "docs/report.pdf", extra_args={"ContentType": "application/pdf"}
    )
    assert (result["success"], result["key"], result["bucket"], result["public"]) == (
        True,
        "docs/report.pdf",
        BUCKET,
        False,
    )
    assert "X-Amz-Signature" in result["url"]  # presigned, because public ACLs are not allowed
    head = bucket.head_object(Bucket=BUCKET, Key="docs/report.pdf")
    assert (head["ContentType"], head["ContentLength"]) == ("application/pdf", 13)
    assert bucket.get_object_acl(Bucket=BUCKET, Key="docs/report.pdf")["Grants"][0][
        "Permission"
    ] == ("FULL_CONTROL")
    assert SECRET not in json.dumps(list(IntegrationLog.objects.values("request_summary", "error")))


def test_public_acl_only_where_the_project_allows_it(client, bucket, settings):
    settings.AWS_S3_ALLOW_PUBLIC_ACL = True
    result = client.upload_fileobj(io.BytesIO(b"hi"), "public/hi.txt")
    assert result["public"] is True
    assert result["url"] == f"https://{BUCKET}.s3.us-east-1.amazonaws.com/public/hi.txt"
    grants = bucket.get_object_acl(Bucket=BUCKET, Key="public/hi.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)


def test_upload_file_key_defaults_to_the_file_name(client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    assert client.upload_file(str(path))["key"] == "notes.txt"


def test_missing_local_file_is_a_clear_error(client, tmp_path):
    result = client.upload_file(str(tmp_path / "nope.txt"), "x")
    assert (result["success"], result["error_code"]) == (False, "invalid_request")


def test_uploads_to_a_missing_bucket_are_not_found(bucket, tmp_path, caplog):
    # boto3's upload_file wraps the ClientError in S3UploadFailedError; upload_fileobj does not.
    path = tmp_path / "a.txt"
    path.write_text("x")
    client = S3Client(aws_s3_bucket_name="no-such-bucket-here")
    from_path = client.upload_file(str(path), "a.txt")
    from_object = client.upload_fileobj(io.BytesIO(b"x"), "a.txt")
    for result in (from_path, from_object):
        assert (result["success"], result["error_code"]) == (False, "not_found")
        assert "NoSuchBucket" in result["error"]
    assert not [record for record in caplog.records if record.exc_info]


_FAILED = "Failed to upload a.txt to b/a.txt:"


@pytest.mark.parametrize(
    ("message", "error_code"),
    [
        (f"{_FAILED} An error occurred (AccessDenied) when calling PutObject", "permission_error"),
        (f"{_FAILED} An error occurred (SlowDown) when calling UploadPart", "api_error"),
        (f"{_FAILED} something else", "api_error"),
    ],
)
def test_upload_failures_without_the_chained_error_map_their_code(message, error_code):
    from boto3.exceptions import S3UploadFailedError

    error = S3Client(aws_s3_bucket_name="b").translate_exception(S3UploadFailedError(message))
    assert error.error_code == error_code
    assert message in error.message


def test_download_file(client, bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="a/b.txt", Body=b"payload")
    destination = tmp_path / "out.txt"
    assert client.download_file("a/b.txt", str(destination))["path"] == str(destination)
    assert destination.read_bytes() == b"payload"
    assert client.download_file("missing.txt", str(destination))["error_code"] == "not_found"


def test_presigned_url_works(client, bucket):
    bucket.put_object(Bucket=BUCKET, Key="private/doc.txt", Body=b"secret doc")
    result = client.generate_presigned_url("private/doc.txt", expiration=120)
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert result["expires_in"] == 120
    assert requests.get(result["url"], timeout=5).content == b"secret doc"


def test_presigned_put_url(client):
    result = client.generate_presigned_url("up/put.txt", http_method="PUT")
    assert requests.put(result["url"], data=b"via put", timeout=5).status_code == 200
    assert client.get_object_metadata("up/put.txt")["metadata"]["content_length"] == 7


def test_presigned_url_rejects_unknown_methods(client):
    assert (
        client.generate_presigned_url("k", http_method="PATCH")["error_code"] == "invalid_request"
    )


def test_presigned_post(client):
    result = client.generate_presigned_post(
        "in/file.txt", expiration=60, conditions=[["content-length-range", 1, 10]]
    )
    assert result["post_url"] == f"https://{BUCKET}.s3.amazonaws.com/"
    assert result["form_fields"]["key"] == "in/file.txt"
    conditions = policy_of(result["form_fields"])["conditions"]
    assert ["content-length-range", 1, 10] in conditions
    assert {"key": "in/file.txt"} in conditions
    response = requests.post(
        result["post_url"],
        data=result["form_fields"],
        files={"file": ("file.txt", b"12345")},
        timeout=5,
    )
    assert response.status_code == 204
    assert client.get_object_metadata("in/file.txt")["metadata"]["content_length"] == 5


def test_presigning_is_local_no_row_no_health(client):
    from patchbay.models import ExternalService

    assert client.generate_presigned_post("in/a.txt")["success"]
    assert client.generate_presigned_url("in/a.txt")["success"]
    assert client.generate_presigned_put("in/a.txt", "text/plain", 3)["success"]
    # Signing never reaches S3: nothing is stored, and S3's health is not vouched for.
    assert not IntegrationLog.objects.exists()
    assert not ExternalService.objects.filter(provider="aws", total_requests__gt=0).exists()


def test_list_and_delete(client, bucket):
    for key in ("p/1.txt", "p/2.txt", "q/3.txt"):
        bucket.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 3)
    listed = client.list_objects(prefix="p/")
    assert [item["key"] for item in listed["objects"]] == ["p/1.txt", "p/2.txt"]
    assert (listed["count"], listed["is_truncated"], listed["objects"][0]["size"]) == (2, False, 3)
    assert client.list_objects(max_keys=1)["is_truncated"] is True
    assert client.delete_object("p/1.txt") == {"success": True, "key": "p/1.txt"}
    assert [item["key"] for item in client.list_objects(prefix="p/")["objects"]] == ["p/2.txt"]


def test_metadata(client, bucket):
    bucket.put_object(
        Bucket=BUCKET,
        Key="m.png",
        Body=b"\x89PNG",
        ContentType="image/png",
        Metadata={"owner": "ada"},
    )
    meta = client.get_object_metadata("m.png")["metadata"]
    assert (meta["content_type"], meta["content_length"], meta["metadata"]) == (
        "image/png",
        4,
        {"owner": "ada"},
    )
    missing = client.get_object_metadata("nope.png")
    assert (missing["success"], missing["error_code"]) == (False, "not_found")


def test_health_probe(client):
    assert client.check_health() == {"success": True, "healthy": True}
    assert (
        S3Client(aws_s3_bucket_name="no-such-bucket-here").check_health()["error_code"]
        == "not_found"
    )


def test_one_boto3_client_per_configuration(bucket):
    assert S3Client().s3 is S3Client().s3
    assert S3Client().s3 is not S3Client(region_name="eu-west-1").s3


def test_botocore_config(bucket, settings):
    settings.PATCHBAY_TIMEOUT = 7
    settings.PATCHBAY_MAX_RETRIES = 4
    config = S3Client().s3.meta.config
    assert (config.connect_timeout, config.read_timeout) == (7, 7)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}  # 1 try + 4 retries
    assert config.signature_version == "s3v4"


def test_r2_endpoint_uses_checksums_only_when_required(settings):
    settings.AWS_S3_ENDPOINT_URL = "https://account.r2.cloudflarestorage.com"
    settings.AWS_REGION = "auto"
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    client = S3Client(debug_mode=False)
    config = client.s3.meta.config
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert client.s3.meta.endpoint_url == "https://account.r2.cloudflarestorage.com"
    assert (
        client.public_url("a b.txt") == "https://account.r2.cloudflarestorage.com/media/a%20b.txt"
    )


def test_custom_domain_public_urls(settings):
    settings.AWS_S3_CUSTOM_DOMAIN = "cdn.example.com"
    assert (
        S3Client(aws_s3_bucket_name="b").public_url("x/y.png") == "https://cdn.example.com/x/y.png"
    )


def test_network_failures_are_retryable_failures(settings):
    settings.AWS_STORAGE_BUCKET_NAME = "b"
    settings.AWS_ACCESS_KEY_ID = "AKIATESTING"
    settings.AWS_SECRET_ACCESS_KEY = SECRET
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.PATCHBAY_MAX_RETRIES = 0
    settings.PATCHBAY_TIMEOUT = 2
    result = S3Client(debug_mode=False).delete_object("k")
    assert (result["success"], result["retryable"]) == (False, True)
    assert result["error_code"] in {"connection_error", "timeout"}


class TestSimulated:
    @pytest.fixture(autouse=True)
    def _simulate(self, settings, tmp_path):
        settings.PATCHBAY_SIMULATE = True
        settings.MEDIA_ROOT = str(tmp_path)

    def test_every_method_works_against_the_local_store(self, tmp_path, patchbay_outbox):
        client = S3Client()
        assert (
            client.upload_fileobj(
                io.BytesIO(b"hello"), "s/a.txt", extra_args={"ContentType": "text/plain"}
            )["simulated"]
            is True
        )
        meta = client.get_object_metadata("s/a.txt")["metadata"]
        assert (meta["content_length"], meta["content_type"]) == (5, "text/plain")
        assert (
            meta["etag"] == f'"{hashlib.md5(b"hello", usedforsecurity=False).hexdigest()}"'
        )  # as S3 does
        assert [o["key"] for o in client.list_objects(prefix="s/")["objects"]] == ["s/a.txt"]
        out = tmp_path / "copy.txt"
        assert client.download_file("s/a.txt", str(out))["success"] is True
        assert out.read_bytes() == b"hello"
        assert client.delete_object("s/a.txt")["success"] is True
        assert client.get_object_metadata("s/a.txt")["error_code"] == "not_found"
        assert patchbay_outbox.filter(provider="aws", operation="upload_fileobj")
