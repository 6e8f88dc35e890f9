from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from patchbay.aws import shortcuts, storage_settings
from patchbay.aws.keys import sanitize_filename
from patchbay.models import Upload
from tests.aws.helpers import BUCKET, bucket, policy_of

pytestmark = pytest.mark.django_db
__all__ = ["bucket"]


def post_form(form, content, content_type="image/png", filename="photo.png"):
    """POST the presigned form to (moto's) S3 exactly as a browser does."""
    return requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": (filename, content, content_type)},
        timeout=10,
    )


class TestFormData:
    def test_policy_pins_key_bucket_type_and_size(self, bucket):
        form = shortcuts.get_direct_upload_form_data(
            "My Photo.png", max_file_size=5000, prefix="uploads/profiles"
        )
        upload = Upload.objects.get(pk=form["upload_id"])
        assert upload.status == Upload.STATUS_PENDING
        assert upload.key.startswith("uploads/profiles/")
        assert upload.key.endswith("/My-Photo.png")
        assert form["form_fields"]["key"] == upload.key
        assert form["form_fields"]["Content-Type"] == "image/png"
        policy = policy_of(form["form_fields"])
        conditions = policy["conditions"]
        assert {"bucket": BUCKET} in conditions
        assert {"key": upload.key} in conditions
        assert {"Content-Type": "image/png"} in conditions
        assert ["content-length-range", 1, 5000] in conditions
        assert {"success_action_status": "201"} in conditions
        assert "expiration" in policy
        assert "X-Amz-Signature" in form["file_url"]

    def test_redirect_variant(self, bucket):
        form = shortcuts.get_direct_upload_form_data(
            "a.pdf", success_redirect_url="https://app/done"
        )
        assert {"success_action_redirect": "https://app/done"} in policy_of(form["form_fields"])[
            "conditions"
        ]
        assert "success_action_status" not in form["form_fields"]

    def test_size_is_capped_by_the_setting(self, bucket, settings):
        settings.AWS_MAX_UPLOAD_SIZE = 1000
        form = shortcuts.get_direct_upload_form_data("a.png", max_file_size=10**9)
        assert ["content-length-range", 1, 1000] in policy_of(form["form_fields"])["conditions"]

    def test_prefix_and_size_default_to_the_settings(self, bucket, settings):
        settings.AWS_UPLOAD_PREFIX = "incoming/photos"
        settings.AWS_MAX_UPLOAD_SIZE = 2048
        form = shortcuts.get_direct_upload_form_data("a.png")
        assert form["key"].startswith("incoming/photos/")
        assert ["content-length-range", 1, 2048] in policy_of(form["form_fields"])["conditions"]
        del settings.AWS_UPLOAD_PREFIX
        assert shortcuts.get_direct_upload_form_data("a.png")["key"].startswith("uploads/")

    def test_content_types(self, bucket, settings):
        assert (
            shortcuts.get_direct_upload_form_data("x.html")["error_code"]
            == "content_type_not_allowed"
        )
        assert (
            shortcuts.get_direct_upload_form_data("x.svg")["error_code"]
            == "content_type_not_allowed"
        )
        # Not known safe: refused by the default allow-list, allowed once listed.
        assert (
            shortcuts.get_direct_upload_form_data("x.bin")["error_code"]
            == "content_type_not_allowed"
        )
        settings.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["application/octet-stream"]
        assert shortcuts.get_direct_upload_form_data("x.bin")["success"] is True
        settings.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["image/*", "application/pdf"]
        assert shortcuts.get_direct_upload_form_data("x.png")["success"] is True
        assert (
            shortcuts.get_direct_upload_form_data("x.txt")["error_code"]
            == "content_type_not_allowed"
        )
        assert not Upload.objects.filter(content_type="text/plain").exists()

    @pytest.mark.parametrize(
        ("hostile", "safe"),
        [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\windows\\system.ini", "system.ini"),
            ("/absolute/path.txt", "path.txt"),
            ("..", "file"),
            ("", "file"),
            ("résumé final (2).pdf", "resume-final-2-.pdf"),
            ("a" * 300 + ".png", "a" * 116 + ".png"),  # 120 characters at most
            ("evil\x00name.png", "evil-name.png"),
            ("<script>.png", "script-.png"),
        ],
    )
    def test_hostile_filenames(self, hostile, safe):
        assert sanitize_filename(hostile) == safe

    def test_keys_never_escape_the_prefix_or_collide(self, bucket):
        keys = {
            shortcuts.get_direct_upload_form_data("../../x.png", prefix="../up/./")["form_fields"][
                "key"
            ]
            for _ in range(3)
        }
        assert len(keys) == 3
        for key in keys:
            assert key.startswith("up/")
            assert ".." not in key.split("/")


class TestFlowAgainstMoto:
    def test_post_then_confirm_reads_the_real_size(self, bucket):
        form = shortcuts.get_direct_upload_form_data("photo.png", max_file_size=1000)
        # moto echoes success_action_status back as a string status code.
        assert int(post_form(form, b"\x89PNG" + b"0" * 96).status_code) == 201
        result = shortcuts.complete_upload(form["upload_id"], file_size=1)  # the browser lies
        assert result["success"] is True
        upload = Upload.objects.get(pk=form["upload_id"])
        assert (upload.status, upload.size) == (Upload.STATUS_COMPLETE, 100)
        assert upload.completed_at is not None
        url = shortcuts.get_upload_file_url(upload.pk)["url"]
        assert requests.get(url, timeout=10).content.startswith(b"\x89PNG")

    def test_missing_object_fails_the_upload(self, bucket):
        form = shortcuts.get_direct_upload_form_data("photo.png")
        result = shortcuts.complete_upload(form["upload_id"])
        assert result["error_code"] == "upload_missing"
        assert Upload.objects.get(pk=form["upload_id"]).status == Upload.STATUS_FAILED

    def test_objects_breaking_the_limits_are_failed_and_deleted(self, bucket):
        # moto does not enforce policies, so write the rogue objects directly.
        form = shortcuts.get_direct_upload_form_data("photo.png", max_file_size=10)
        key = form["form_fields"]["key"]
        bucket.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 11, ContentType="image/png")
        assert shortcuts.complete_upload(form["upload_id"])["error_code"] == "upload_invalid"
        assert "limit" in Upload.objects.get(pk=form["upload_id"]).error
        assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)
        other = shortcuts.get_direct_upload_form_data("photo.png")
        bucket.put_object(
            Bucket=BUCKET, Key=other["form_fields"]["key"], Body=b"x", ContentType="text/html"
        )
        assert shortcuts.complete_upload(other["upload_id"])["error_code"] == "upload_invalid"

    def test_failed_status_and_unknown_ids(self, bucket):
        form = shortcuts.get_direct_upload_form_data("photo.png")
        result = shortcuts.complete_upload(
            form["upload_id"], status=Upload.STATUS_FAILED, error="Network lost"
        )
        assert result["upload"]["status"] == Upload.STATUS_FAILED
        assert result["upload"]["error"] == "Network lost"
        assert shortcuts.complete_upload(999_999)["error_code"] == "not_found"

    def test_delete_upload(self, bucket):
        form = shortcuts.get_direct_upload_form_data("photo.png")
        post_form(form, b"\x89PNG")
        shortcuts.complete_upload(form["upload_id"])
        assert shortcuts.delete_upload(form["upload_id"])["success"] is True
        assert Upload.objects.get(pk=form["upload_id"]).status == Upload.STATUS_DELETED
        assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)
        assert shortcuts.delete_upload(form["upload_id"])["error_code"] == "not_found"
        assert shortcuts.get_upload_file_url(form["upload_id"])["error_code"] == "not_found"

    def test_public_uploads_get_public_urls(self, bucket, settings):
        form = shortcuts.get_direct_upload_form_data("photo.png")
        post_form(form, b"\x89PNG")
        shortcuts.complete_upload(form["upload_id"])
        Upload.objects.filter(pk=form["upload_id"]).update(public=True)
        url = shortcuts.get_upload_file_url(form["upload_id"])
        assert (url["public"], "X-Amz-Signature" in url["url"]) == (True, False)
        assert (
            "X-Amz-Signature"
            in shortcuts.get_upload_file_url(form["upload_id"], presigned=True)["url"]
        )


def test_reaper_fails_stale_uploads_and_deletes_orphans(bucket):
    stale = shortcuts.get_direct_upload_form_data("old.png")
    post_form(stale, b"\x89PNG")  # uploaded, never confirmed
    fresh = shortcuts.get_direct_upload_form_data("new.png")
    Upload.objects.filter(pk=stale["upload_id"]).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    call_command("patchbay_reap_uploads", verbosity=0)
    assert Upload.objects.get(pk=stale["upload_id"]).status == Upload.STATUS_FAILED
    assert Upload.objects.get(pk=fresh["upload_id"]).status == Upload.STATUS_PENDING
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)


class TestStorageSettings:
    def test_s3(self):
        storages = storage_settings(
            "media-bucket", region_name="eu-west-1", access_key="AKIA1", secret_key="s3cret"
        )
        default = storages["default"]
        assert default["OPTIONS"]["custom_domain"] is None  # private media stays signed
        assert default["BACKEND"] == "storages.backends.s3.S3Storage"
        options = default["OPTIONS"]
        assert (options["bucket_name"], options["region_name"], options["access_key"]) == (
            "media-bucket",
            "eu-west-1",
            "AKIA1",
        )
        assert (options["default_acl"], options["querystring_auth"], options["file_overwrite"]) == (
            None,
            True,
            False,
        )
        assert storages["staticfiles"]["OPTIONS"]["querystring_auth"] is False
        assert "staticfiles" not in storage_settings("media-bucket", static=False)

    def test_r2(self):
        options = storage_settings(
            "media",
            endpoint_url="https://acct.r2.cloudflarestorage.com",
            custom_domain="files.example.com",
        )["default"]["OPTIONS"]
        assert options["region_name"] == "auto"
        assert options["endpoint_url"] == "https://acct.r2.cloudflarestorage.com"
        assert options["client_config"].request_checksum_calculation == "when_required"
        assert options["custom_domain"] == "files.example.com"
        assert "access_key" not in options  # boto3's own chain

    def test_ignores_django_settings(self, settings):
        # Called in settings.py, it cannot read them: a value set there must not leak in.
        settings.AWS_STORAGE_BUCKET_NAME = "from-settings"
        settings.AWS_REGION = "ap-south-1"
        options = storage_settings("given")["default"]["OPTIONS"]
        assert (options["bucket_name"], options["region_name"]) == ("given", "us-east-1")

    def test_no_bucket_is_a_type_error(self):
        with pytest.raises(TypeError, match="bucket_name"):
            storage_settings()  # type: ignore[call-arg]

    @pytest.mark.parametrize("bucket_name", [None, ""])
    def test_an_empty_bucket_is_refused(self, bucket_name):
        # e.g. STORAGES = storage_settings(os.environ.get("AWS_STORAGE_BUCKET_NAME"))
        with pytest.raises(ImproperlyConfigured, match="needs a bucket name"):
            storage_settings(bucket_name)

    def test_an_access_key_needs_its_secret(self):
        with pytest.raises(ImproperlyConfigured, match="access_key and secret_key together"):
            storage_settings("media", access_key="AKIA1")

    def test_the_storage_really_works(self, bucket, settings):
        from django.core.files.base import ContentFile
        from storages.backends.s3 import S3Storage

        options = storage_settings(
            BUCKET,
            region_name=settings.AWS_REGION,
            access_key=settings.AWS_ACCESS_KEY_ID,
            secret_key=settings.AWS_SECRET_ACCESS_KEY,
        )["default"]["OPTIONS"]
        storage = S3Storage(**options)
        name = storage.save("doc.txt", ContentFile(b"stored"))
        assert name.startswith("doc")
        assert bucket.get_object(Bucket=BUCKET, Key=f"media/{name}")["Body"].read() == b"stored"


class TestPresignedPut:
    """Cloudflare R2 takes no POST forms: a presigned PUT signs the exact type and size."""

    def test_auto_chooses_put_for_r2_only(self, settings):
        from patchbay.aws.s3 import S3Client

        settings.AWS_STORAGE_BUCKET_NAME = "media"
        assert shortcuts.direct_upload_method(S3Client(debug_mode=False)) == "post"
        settings.AWS_S3_ENDPOINT_URL = "https://acct.r2.cloudflarestorage.com"
        assert shortcuts.direct_upload_method(S3Client(debug_mode=False)) == "put"
        assert shortcuts.direct_upload_method(S3Client(debug_mode=True)) == "post"
        settings.AWS_DIRECT_UPLOAD_METHOD = "post"
        assert shortcuts.direct_upload_method(S3Client(debug_mode=False)) == "post"

    def test_put_flow(self, bucket, settings):
        settings.AWS_DIRECT_UPLOAD_METHOD = "put"
        form = shortcuts.get_direct_upload_form_data("photo.png", max_file_size=1000, file_size=10)
        assert (form["method"], form["form_fields"], form["headers"]) == (
            "PUT",
            {},
            {"Content-Type": "image/png"},
        )
        signed = parse_qs(urlsplit(form["form_url"]).query)["X-Amz-SignedHeaders"][0].split(";")
        assert {"content-length", "content-type", "host"} <= set(signed)
        response = requests.put(
            form["form_url"], data=b"\x89PNG" + b"0" * 6, headers=form["headers"], timeout=10
        )
        assert response.status_code == 200
        assert shortcuts.complete_upload(form["upload_id"])["upload"]["size"] == 10

    def test_put_needs_a_size_within_the_limit(self, bucket, settings):
        settings.AWS_DIRECT_UPLOAD_METHOD = "put"
        for size in (None, 0, 1001):
            result = shortcuts.get_direct_upload_form_data(
                "photo.png", max_file_size=1000, file_size=size
            )
            assert result["error_code"] == "invalid_request"
        assert not Upload.objects.exists()
