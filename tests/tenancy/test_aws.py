"""S3 per tenant: each tenant uploads to its own bucket with its own keys (against moto)."""

from __future__ import annotations

import boto3
import pytest
import requests
from moto import mock_aws

from patchbay.aws import shortcuts
from patchbay.aws.s3 import _sdk_client
from patchbay.models import Upload
from tests.aws.helpers import policy_of
from tests.tenancy.services import connect

REGION = "us-east-1"
BUCKETS = {"site": "site-uploads", "acme": "acme-files", "globex": "globex-files"}
ACME_KEY_ID, GLOBEX_KEY_ID = "AKIAACMEACMEACME", "AKIAGLOBEXGLOBEX"


@pytest.fixture
def buckets(settings, acme, globex):
    settings.PATCHBAY_SIMULATE = False
    settings.AWS_ACCESS_KEY_ID = "AKIASITESITESITE"
    settings.AWS_SECRET_ACCESS_KEY = "site-secret-0123456789"
    settings.AWS_STORAGE_BUCKET_NAME = BUCKETS["site"]
    settings.AWS_REGION = REGION
    for tenant, key_id in ((acme, ACME_KEY_ID), (globex, GLOBEX_KEY_ID)):
        connect(
            tenant,
            "aws",
            aws_secret_access_key=f"{tenant.slug}-secret-0123456789",
            options={"aws_access_key_id": key_id, "aws_s3_bucket_name": BUCKETS[tenant.slug]},
        )
    _sdk_client.cache_clear()
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for name in BUCKETS.values():
            s3.create_bucket(Bucket=name)
        yield s3
    _sdk_client.cache_clear()


def upload_png(tenant):
    form = shortcuts.get_direct_upload_form_data("photo.png", tenant=tenant)
    assert form["success"], form
    posted = requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": ("photo.png", b"\x89PNG-data", "image/png")},
        timeout=10,
    )
    assert int(posted.status_code) in (201, 204), posted.text
    return form


def test_each_tenant_uploads_to_its_bucket_with_its_keys(buckets, acme, globex):
    forms = {tenant.slug: upload_png(tenant) for tenant in (acme, globex)}

    for tenant, key_id in ((acme, ACME_KEY_ID), (globex, GLOBEX_KEY_ID)):
        form = forms[tenant.slug]
        assert {"bucket": BUCKETS[tenant.slug]} in policy_of(form["form_fields"])["conditions"]
        assert form["form_fields"]["x-amz-credential"].startswith(key_id + "/")
        upload = Upload.objects.get(pk=form["upload_id"])
        assert (upload.bucket, upload.tenant_key) == (BUCKETS[tenant.slug], str(tenant.pk))
        listed = buckets.list_objects_v2(Bucket=BUCKETS[tenant.slug])["Contents"]
        assert [item["Key"] for item in listed] == [upload.key]


def test_another_tenants_upload_is_not_found(buckets, acme, globex):
    form = upload_png(acme)

    assert shortcuts.complete_upload(form["upload_id"], tenant=globex)["error_code"] == (
        "not_found"
    )
    assert shortcuts.get_upload_file_url(form["upload_id"], tenant=globex)["error_code"] == (
        "not_found"
    )
    assert shortcuts.delete_upload(form["upload_id"], tenant=globex)["error_code"] == "not_found"
    completed = shortcuts.complete_upload(form["upload_id"], tenant=acme)
    assert completed["success"], completed
    url = shortcuts.get_upload_file_url(form["upload_id"], tenant=acme)
    assert url["success"], url
    assert ACME_KEY_ID in url["url"]


def test_a_tenants_own_bucket_wins_over_the_sites_upload_bucket(buckets, settings, acme):
    settings.AWS_UPLOAD_BUCKET = BUCKETS["site"]

    form = shortcuts.get_direct_upload_form_data("photo.png", tenant=acme)

    assert Upload.objects.get(pk=form["upload_id"]).bucket == BUCKETS["acme"]


def test_no_tenant_is_tenant_required(buckets):
    result = shortcuts.get_direct_upload_form_data("photo.png")

    assert (result["success"], result["error_code"]) == (False, "tenant_required")
    assert not Upload.objects.exists()


def test_reaping_deletes_an_abandoned_upload_with_its_tenants_credentials(buckets, acme):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    form = upload_png(acme)
    Upload.objects.update(created_at=timezone.now() - timedelta(days=2))

    call_command("patchbay_reap_uploads", stdout=StringIO(), stderr=StringIO())

    upload = Upload.objects.get(pk=form["upload_id"])
    assert upload.status == Upload.STATUS_FAILED
    assert "Contents" not in buckets.list_objects_v2(Bucket=BUCKETS["acme"])
