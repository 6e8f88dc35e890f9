"""The Twilio service's declaration: what checks and the admin read without the client."""

from __future__ import annotations

from patchbay.core.config import ConfigField
from patchbay.core.declaration import ServiceDeclaration

SERVICE = ServiceDeclaration(
    provider="twilio",
    display_name="Twilio",
    sdk_module="twilio",
    extra="twilio",
    enabled_setting="TWILIO_ENABLED",
    webhook_secret_field="auth_token",  # noqa: S106  # nosec B106  # a field name
    webhook_url_names=("twilio-status-callback", "twilio-inbound"),
    config_fields={
        "account_sid": ConfigField(setting="TWILIO_ACCOUNT_SID"),
        "auth_token": ConfigField(setting="TWILIO_AUTH_TOKEN", secret=True),
        "from_number": ConfigField(
            setting="TWILIO_PHONE_NUMBER", required=False, label="Sender phone number"
        ),
        "messaging_service_sid": ConfigField(
            setting="TWILIO_MESSAGING_SERVICE_SID", required=False
        ),
        "whatsapp_from": ConfigField(
            setting="TWILIO_WHATSAPP_NUMBER", required=False, label="WhatsApp sender number"
        ),
        "webhook_signing_key": ConfigField(
            setting="TWILIO_WEBHOOK_SIGNING_KEY", secret=True, required=False
        ),
    },
)
