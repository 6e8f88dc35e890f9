"""The AWS S3 service's declaration: what checks and the admin read without the client."""

from __future__ import annotations

from patchbay.core.config import ConfigField
from patchbay.core.declaration import ServiceDeclaration

SERVICE = ServiceDeclaration(
    provider="aws",
    display_name="AWS S3",
    sdk_module="boto3",
    extra="aws",
    enabled_setting="AWS_ENABLED",
    config_fields={
        "aws_access_key_id": ConfigField(setting="AWS_ACCESS_KEY_ID", required=False),
        "aws_secret_access_key": ConfigField(
            setting="AWS_SECRET_ACCESS_KEY", secret=True, required=False
        ),
        "aws_s3_bucket_name": ConfigField(setting="AWS_STORAGE_BUCKET_NAME"),
        "region_name": ConfigField(setting="AWS_REGION", required=False, label="Region"),
        "endpoint_url": ConfigField(setting="AWS_S3_ENDPOINT_URL", required=False),
    },
)
