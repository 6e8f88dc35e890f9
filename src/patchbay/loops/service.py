"""The Loops service's declaration: what checks and the admin read without the client."""

from __future__ import annotations

from patchbay.core.config import ConfigField
from patchbay.core.declaration import ServiceDeclaration

SERVICE = ServiceDeclaration(
    provider="loops",
    display_name="Loops",
    sdk_module="requests",
    extra="loops",
    enabled_setting="LOOPS_ENABLED",
    webhook_secret_field="webhook_secret",  # noqa: S106  # nosec B106  # a field name
    webhook_url_names=("loops-webhook",),
    config_fields={
        "api_key": ConfigField(setting="LOOPS_API_KEY", secret=True),
        "webhook_secret": ConfigField(
            setting="LOOPS_WEBHOOK_SECRET",
            secret=True,
            required=False,
            label="Webhook signing secret",
        ),
        "api_base": ConfigField(setting="LOOPS_API_BASE", required=False, label="API base URL"),
    },
)

#: The templates the shortcuts send, by key of ``LOOPS_TRANSACTIONAL_IDS`` (here for the
#: system check, which need not import the shortcuts).
TEMPLATE_KEYS = ("password_reset", "login_code", "team_membership")
