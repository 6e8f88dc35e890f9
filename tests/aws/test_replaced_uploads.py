"""Issue 14, finding 3: a confirmed upload stays what was confirmed.

The attack: a presigned form stayed usable for an hour, so posting it again
after ``complete_upload`` replaced the confirmed object, and every file URL
then served the replacement.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import requests

from patchbay.aws.shortcuts import complete_upload, get_direct_upload_form_data, get_upload_file_url
from patchbay.aws.simulated import store
from patchbay.models import Upload
from patchbay.testing import post_presigned_form
from tests.aws.helpers import BUCKET, bucket, policy_of

pytestmark = pytest.mark.django_db
__all__ = ["bucket"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
SWAPPED = b"\x89PNG\r\n\x1a\n" + b"\1" * 32  # as valid for the policy, other bytes


@pytest.fixture
def simulating(settings, tmp_path):
    settings.PATCHBAY_SIMULATE = True
    settings.MEDIA_ROOT = str(tmp_path)
    return settings


def _body(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return body


def _post(client, form, content):
    response = post_presigned_form(
        client, form["form_url"], form["form_fields"], content, filename="photo.png"
    )
    assert response.status_code == 201
    return response


def _expiration(fields):
    moment = datetime.strptime(policy_of(fields)["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=timezone.utc).timestamp()


class TestFormLifetime:
    def test_a_form_lives_minutes_by_default(self, simulating):
        before = time.time()
        form = get_direct_upload_form_data("photo.png")
        assert form["expires_in"] == 600
        assert before + 590 <= _expiration(form["form_fields"]) <= time.time() + 600
        assert "token=" in form["file_url"]

    def test_the_setting_and_the_argument(self, simulating):
        simulating.AWS_UPLOAD_FORM_EXPIRATION = 120
        assert get_direct_upload_form_data("photo.png")["expires_in"] == 120
        assert get_direct_upload_form_data("photo.png", expiration=30)["expires_in"] == 30

    def test_the_endpoint_uses_the_setting(self, client, simulating, django_user_model):
        client.force_login(django_user_model.objects.create_user("ada"))
        simulating.AWS_UPLOAD_FORM_EXPIRATION = 90
        response = client.post("/integrations/uploads/credentials/", {"filename": "photo.png"})
        assert response.json()["expires_in"] == 90


class TestSimulated:
    def test_confirm_records_the_etag(self, client, simulating):
        form = get_direct_upload_form_data("photo.png")
        _post(client, form, PNG)
        assert complete_upload(form["upload_id"])["success"] is True
        upload = Upload.objects.get(pk=form["upload_id"])
        assert upload.etag == store.head(upload.bucket, upload.key)["etag"]
        assert upload.etag.startswith('"')
        # Confirming the same object again changes nothing.
        assert complete_upload(form["upload_id"])["upload"]["status"] == Upload.STATUS_COMPLETE

    def test_a_url_of_the_confirmed_object_refuses_a_replacement(self, client, simulating):
        form = get_direct_upload_form_data("photo.png")
        _post(client, form, PNG)
        complete_upload(form["upload_id"])
        url = get_upload_file_url(form["upload_id"])["url"]
        assert _body(client.get(url)) == PNG

        _post(client, form, SWAPPED)  # the attack: the form is still valid

        response = client.get(url)
        assert response.status_code == 412
        error = {e.tag: e.text for e in ElementTree.fromstring(response.content)}  # noqa: S314
        assert (error["Code"], error["Condition"]) == ("PreconditionFailed", "If-Match")
        assert client.head(url).status_code == 412

    def test_no_new_url_for_a_replaced_object_and_the_upload_is_flagged(self, client, simulating):
        form = get_direct_upload_form_data("photo.png")
        _post(client, form, PNG)
        complete_upload(form["upload_id"])
        _post(client, form, SWAPPED)

        result = get_upload_file_url(form["upload_id"])
        assert result["success"] is False
        assert result["error_code"] == "upload_replaced"
        upload = Upload.objects.get(pk=form["upload_id"])
        assert upload.status == Upload.STATUS_FAILED
        assert "replaced" in upload.error
        assert store.head(upload.bucket, upload.key) is None  # the replacement is deleted

    def test_a_second_confirm_flags_a_replacement(self, client, simulating):
        form = get_direct_upload_form_data("photo.png")
        _post(client, form, PNG)
        complete_upload(form["upload_id"])
        _post(client, form, SWAPPED)

        result = complete_upload(form["upload_id"])
        assert result["error_code"] == "upload_replaced"
        assert result["upload"]["status"] == Upload.STATUS_FAILED
        upload = Upload.objects.get(pk=form["upload_id"])
        assert store.head(upload.bucket, upload.key) is None
        # Posting yet again and confirming does not launder it: it was confirmed as other bytes.
        _post(client, form, PNG + b"!")
        assert complete_upload(form["upload_id"])["error_code"] == "upload_replaced"
        assert get_upload_file_url(form["upload_id"])["error_code"] == "not_found"

    def test_the_confirm_endpoint_answers_a_replacement(
        self, client, simulating, django_user_model
    ):
        client.force_login(django_user_model.objects.create_user("ada"))
        form = client.post("/integrations/uploads/credentials/", {"filename": "photo.png"}).json()
        _post(client, form, PNG)
        confirm = {"upload_id": form["upload_id"]}
        assert client.post("/integrations/uploads/confirm/", confirm).status_code == 200
        _post(client, form, SWAPPED)
        response = client.post("/integrations/uploads/confirm/", confirm)
        assert response.status_code == 409
        assert response.json()["error_code"] == "upload_replaced"

    def test_the_bucket_honours_an_if_match_header_as_s3_does(self, client, simulating):
        form = get_direct_upload_form_data("photo.png")
        _post(client, form, PNG)
        etag = store.head("patchbay-simulated", form["key"])["etag"]
        matching = client.get(form["file_url"], headers={"If-Match": etag})
        assert (matching.status_code, _body(matching)) == (200, PNG)
        assert client.get(form["file_url"], headers={"If-Match": '"other"'}).status_code == 412


def _upload(form, content):
    response = requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": ("photo.png", content, "image/png")},
        timeout=10,
    )
    assert int(response.status_code) == 201


class TestS3:
    def test_a_replaced_object_gets_no_url(self, bucket):
        form = get_direct_upload_form_data("photo.png")
        _upload(form, PNG)
        complete_upload(form["upload_id"])
        assert Upload.objects.get(pk=form["upload_id"]).etag
        assert get_upload_file_url(form["upload_id"])["success"] is True

        _upload(form, SWAPPED)

        assert get_upload_file_url(form["upload_id"])["error_code"] == "upload_replaced"
        assert Upload.objects.get(pk=form["upload_id"]).status == Upload.STATUS_FAILED
        assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)

    def test_a_versioned_bucket_binds_urls_to_the_confirmed_version(self, bucket):
        bucket.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        form = get_direct_upload_form_data("photo.png")
        _upload(form, PNG)
        complete_upload(form["upload_id"])
        upload = Upload.objects.get(pk=form["upload_id"])
        assert upload.version_id
        url = get_upload_file_url(form["upload_id"])["url"]
        assert parse_qs(urlsplit(url).query)["versionId"] == [upload.version_id]

        _upload(form, SWAPPED)

        assert requests.get(url, timeout=10).content == PNG  # still what was confirmed
        assert complete_upload(form["upload_id"])["error_code"] == "upload_replaced"

    def test_file_urls_stay_links_a_browser_can_follow(self, bucket):
        # If-Match in a presigned GET would be a *signed header*: a browser following the
        # link cannot send it, and S3 answers 403. The binding is the ETag check before
        # signing, and versionId (a query parameter) where the bucket keeps versions.
        form = get_direct_upload_form_data("photo.png")
        _upload(form, PNG)
        complete_upload(form["upload_id"])
        for url in (form["file_url"], get_upload_file_url(form["upload_id"])["url"]):
            assert parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"] == ["host"]
