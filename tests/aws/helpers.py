"""Shared pieces of the S3 tests: a moto bucket patchbay is configured for."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws

from patchbay.aws.s3 import _sdk_client

BUCKET = "patchbay-test"
REGION = "us-east-1"
SECRET = "moto-secret-access-key-0123456789"


@pytest.fixture
def bucket(settings):
    """A moto bucket, and patchbay configured (live) for it; yields a boto3 client."""
    settings.PATCHBAY_SIMULATE = False
    settings.AWS_ACCESS_KEY_ID = "AKIATESTING"
    settings.AWS_SECRET_ACCESS_KEY = SECRET
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_REGION = REGION
    _sdk_client.cache_clear()
    with mock_aws():
        s3 = boto3.client(
            "s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
        )
        s3.create_bucket(Bucket=BUCKET)
        yield s3
    _sdk_client.cache_clear()


def policy_of(form_fields):
    """The decoded POST policy of a presigned form."""
    return json.loads(base64.b64decode(form_fields["policy"]))
