"""The Stripe service's declaration: what checks and the admin read without the client."""

from __future__ import annotations

from patchbay.core.config import ConfigField
from patchbay.core.declaration import ServiceDeclaration

SERVICE = ServiceDeclaration(
    provider="stripe",
    display_name="Stripe",
    sdk_module="stripe",
    extra="stripe",
    enabled_setting="STRIPE_ENABLED",
    webhook_secret_field="webhook_secret",  # noqa: S106  # nosec B106  # a field name
    webhook_url_names=("stripe-webhook",),
    config_fields={
        "api_key": ConfigField(setting="STRIPE_API_KEY", secret=True),
        "webhook_secret": ConfigField(
            setting="STRIPE_WEBHOOK_SECRET",
            secret=True,
            required=False,
            label="Webhook signing secret",
        ),
        "api_version": ConfigField(setting="STRIPE_API_VERSION", required=False),
        "api_base": ConfigField(setting="STRIPE_API_BASE", required=False, label="API base URL"),
    },
)
