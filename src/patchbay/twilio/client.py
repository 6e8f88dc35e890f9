"""``TwilioClient``: SMS and WhatsApp, Lookup v2 and message status on the twilio SDK.

The SDK sets no timeout and no retry by default. patchbay sets the timeout and
lets urllib3 retry only what cannot double-send: failed connections, and
idempotent requests. A message POST whose answer was lost is never resent;
its result says the outcome is unknown.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from patchbay.conf import conf
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.sdk import sdk_available
from patchbay.core.simulation import fake_id
from patchbay.core.urls import patchbay_path
from patchbay.exceptions import ServiceError
from patchbay.results import Result
from patchbay.twilio import errors, numbers

MAX_BODY_LENGTH = 1600


@functools.lru_cache(maxsize=8)
def _sdk_client(account_sid: str, auth_token: str, timeout: float, retries: int) -> Any:
    # One client (and connection pool) per account and process.
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    return Client(
        account_sid,
        auth_token,
        http_client=TwilioHttpClient(timeout=timeout, max_retries=retries or None),
    )


def status_callback_url() -> str | None:
    """The public URL of the status callback endpoint, when ``PATCHBAY_PUBLIC_URL`` is set.

    Raises :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    the setting is set but ``patchbay.urls`` is not mounted: sending without the
    callback would leave the message's status unknown for good.
    """
    if not conf.PUBLIC_URL:
        return None
    return conf.PUBLIC_URL + patchbay_path("patchbay:twilio-status-callback")


class TwilioClient(BaseClient):
    """SMS/WhatsApp messages, number lookups and delivery status."""

    provider = "twilio"
    display_name = "Twilio"
    sdk_module = "twilio"
    extra = "twilio"
    enabled_setting = "TWILIO_ENABLED"
    webhook_secret_field = "auth_token"  # noqa: S105 (a field name, not a secret)
    webhook_url_names = ("twilio-status-callback", "twilio-inbound")
    config_fields = {
        "account_sid": ConfigField(setting="TWILIO_ACCOUNT_SID"),
        "auth_token": ConfigField(setting="TWILIO_AUTH_TOKEN", secret=True),
        "from_number": ConfigField(setting="TWILIO_PHONE_NUMBER", required=False),
        "messaging_service_sid": ConfigField(
            setting="TWILIO_MESSAGING_SERVICE_SID", required=False
        ),
        "whatsapp_from": ConfigField(setting="TWILIO_WHATSAPP_NUMBER", required=False),
        "webhook_signing_key": ConfigField(
            setting="TWILIO_WEBHOOK_SIGNING_KEY", secret=True, required=False
        ),
    }

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        debug_mode: bool | None = None,
    ) -> None:
        super().__init__(
            debug_mode=debug_mode,
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=from_number,
        )

    @property
    def twilio(self) -> Any:
        """The configured ``twilio.rest.Client``."""
        self.sdk()
        return _sdk_client(
            self.config["account_sid"], self.config["auth_token"], conf.TIMEOUT, conf.MAX_RETRIES
        )

    # -- the spec's methods -------------------------------------------------------------

    def send_sms(
        self,
        to_number: str,
        body: str,
        from_number: str | None = None,
        status_callback: str | None = None,
        channel: str | None = None,
    ) -> Result:
        """Send an SMS (or WhatsApp message: ``channel="whatsapp"`` or a ``whatsapp:`` number).

        Result keys ``sid``, ``status``, plus ``to``, ``from`` and ``channel`` as sent.
        """
        message: dict[str, Any] = {}

        def validate() -> None:
            if not body or len(body) > MAX_BODY_LENGTH:
                raise ServiceError(
                    f"The message body must be 1 to {MAX_BODY_LENGTH} characters.",
                    error_code="invalid_body",
                )
            to = numbers.parse_address(to_number, channel, simulating=self.debug_mode)
            message.update(to=to.twilio, body=body, channel=to.channel)
            sender = self._sender(from_number, to.channel)
            message.update(sender)
            callback = status_callback or status_callback_url()
            if callback:
                message["status_callback"] = callback

        def live() -> dict[str, Any]:
            fields = {key: value for key, value in message.items() if key != "channel"}
            try:
                sent = self.twilio.messages.create(**fields)
            except Exception as exc:
                raise errors.unknown_outcome(exc) from exc
            return {
                "sid": sent.sid,
                "status": sent.status,
                "to": message["to"],
                "from": message.get("from_") or message.get("messaging_service_sid"),
                "channel": message["channel"],
            }

        def simulate() -> dict[str, Any]:
            return {
                "sid": fake_id("SM", 32),
                "status": "queued",
                "to": message["to"],
                "from": message.get("from_") or message.get("messaging_service_sid"),
                "channel": message["channel"],
            }

        return self.call(
            "send_sms",
            live,
            simulate=simulate,
            validate=validate,
            params={"to": to_number, "body_length": len(body or ""), "channel": channel},
            private={"body": body},
        )

    def verify_phone_number(self, phone_number: str) -> Result:
        """Look a number up (Lookup v2): ``valid``, and ``data`` with ``carrier`` and ``line_type``.

        An unparseable number is simply not valid; no call is made for it.
        """
        normalized: dict[str, str] = {}

        def validate() -> None:
            try:
                normalized["number"] = numbers.normalize(phone_number, simulating=self.debug_mode)
            except ServiceError:
                normalized["number"] = ""

        def live() -> dict[str, Any]:
            if not normalized["number"]:
                return {"valid": False, "data": {"phone_number": str(phone_number)}}
            found = self.twilio.lookups.v2.phone_numbers(normalized["number"]).fetch(
                fields="line_type_intelligence"
            )
            intelligence = found.line_type_intelligence or {}
            return {
                "valid": bool(found.valid),
                "data": {
                    "phone_number": found.phone_number,
                    "country_code": found.country_code,
                    "carrier": {
                        "name": intelligence.get("carrier_name"),
                        "type": intelligence.get("type"),
                    },
                    "line_type": intelligence.get("type"),
                },
            }

        return self.call(
            "verify_phone_number",
            live,
            simulate=lambda: _simulated_lookup(normalized["number"], phone_number),
            validate=validate,
            params={"phone_number": phone_number},
        )

    def get_message_status(self, message_sid: str) -> Result:
        """``status`` and ``data`` with ``error_code`` and ``error_message`` of a message."""

        def live() -> dict[str, Any]:
            found = self.twilio.messages(message_sid).fetch()
            return {
                "status": found.status,
                "data": {
                    "sid": found.sid,
                    "error_code": found.error_code,
                    "error_message": found.error_message,
                    "to": found.to,
                    "from": found.from_,
                },
            }

        def simulate() -> dict[str, Any]:
            return {
                "status": "delivered",
                "data": {"sid": message_sid, "error_code": None, "error_message": None},
            }

        return self.call(
            "get_message_status", live, simulate=simulate, params={"message_sid": message_sid}
        )

    # -- Twilio Verify: the ``twilio_verify`` backend of patchbay.twilio.verification -------

    def start_verification(self, phone_number: str, channel: str = "sms") -> Result:
        """Have Twilio Verify send a code: ``sid``, ``status``, ``to`` and ``channel``.

        Uses the service ``TWILIO_VERIFY_SERVICE_SID``; ``channel`` is ``"sms"``,
        ``"call"`` or ``"whatsapp"``. Simulating, the code sent is
        :func:`~patchbay.twilio.codes.simulated_verify_code`, kept in the outbox only.
        """
        from patchbay.twilio.codes import simulated_verify_code

        request: dict[str, str] = {}
        # Filled in by validate(), which runs before the outbox reads it; simulated only.
        secret = {"code": ""}

        def validate() -> None:
            if channel not in ("sms", "call", "whatsapp"):
                raise ServiceError(
                    f"Unknown channel {channel!r}: use 'sms', 'call' or 'whatsapp'.",
                    error_code="invalid_channel",
                )
            request["to"] = numbers.normalize(phone_number, simulating=self.debug_mode)
            request["service_sid"] = conf.TWILIO_VERIFY_SERVICE_SID
            if not (request["service_sid"] or self.debug_mode):
                raise ServiceError(
                    "Twilio Verify is not configured: set TWILIO_VERIFY_SERVICE_SID.",
                    error_code="not_configured",
                )
            if self.debug_mode:
                secret["code"] = simulated_verify_code(request["to"])

        def live() -> dict[str, Any]:
            service = self.twilio.verify.v2.services(request["service_sid"])
            try:
                started = service.verifications.create(to=request["to"], channel=channel)
            except Exception as exc:
                raise errors.unknown_outcome(exc) from exc
            return {
                "sid": started.sid,
                "status": started.status,
                "to": started.to,
                "channel": started.channel,
            }

        def simulate() -> dict[str, Any]:
            return {
                "sid": fake_id("VE", 32),
                "status": "pending",
                "to": request["to"],
                "channel": channel,
            }

        return self.call(
            "start_verification",
            live,
            simulate=simulate,
            validate=validate,
            params={"to": phone_number, "channel": channel},
            private=secret,
        )

    def check_verification(self, phone_number: str, code: str) -> Result:
        """Check ``code`` with Twilio Verify: ``approved``, ``status`` and ``sid``.

        A wrong code is a success with ``approved`` False and ``status`` ``"pending"``.
        No pending verification (expired, already approved, or never started) gives
        ``status`` ``"not_found"``; too many wrong checks, ``"max_attempts_reached"``.
        """
        from patchbay.twilio.codes import clean_code, code_matches_simulated

        request: dict[str, str] = {}

        def validate() -> None:
            request["to"] = numbers.normalize(phone_number, simulating=self.debug_mode)
            request["code"] = clean_code(code, twilio_verify=True) or ""
            if not request["code"]:
                raise ServiceError("The code must be 4 to 10 digits.", error_code="invalid_code")
            request["service_sid"] = conf.TWILIO_VERIFY_SERVICE_SID
            if not (request["service_sid"] or self.debug_mode):
                raise ServiceError(
                    "Twilio Verify is not configured: set TWILIO_VERIFY_SERVICE_SID.",
                    error_code="not_configured",
                )

        def live() -> dict[str, Any]:
            from twilio.base.exceptions import TwilioRestException

            service = self.twilio.verify.v2.services(request["service_sid"])
            try:
                checked = service.verification_checks.create(to=request["to"], code=request["code"])
            except TwilioRestException as exc:
                # Answers about the verification, not failures of the service.
                if exc.status == 404 or exc.code == 20404:
                    return {"approved": False, "status": "not_found", "sid": None}
                if exc.code == 60202:
                    return {"approved": False, "status": "max_attempts_reached", "sid": None}
                raise
            return {
                "approved": checked.status == "approved",
                "status": checked.status,
                "sid": checked.sid,
            }

        def simulate() -> dict[str, Any]:
            approved = code_matches_simulated(request["to"], request["code"])
            return {
                "approved": approved,
                "status": "approved" if approved else "pending",
                "sid": fake_id("VE", 32),
            }

        return self.call(
            "check_verification",
            live,
            simulate=simulate,
            validate=validate,
            params={"to": phone_number},
            private={"code": code},
        )

    # -- helpers ---------------------------------------------------------------------------

    def _sender(self, from_number: str | None, channel: str) -> dict[str, str]:
        explicit = (
            from_number
            or (self.config.get("whatsapp_from") if channel == numbers.WHATSAPP else None)
            or self.config.get("from_number")
        )
        if explicit:
            return {
                "from_": numbers.parse_address(explicit, channel, simulating=self.debug_mode).twilio
            }
        if self.config.get("messaging_service_sid"):
            return {"messaging_service_sid": self.config["messaging_service_sid"]}
        if self.debug_mode:
            return {"from_": "+15005550006"}  # Twilio's magic test sender
        raise ServiceError(
            "No sender: set TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID.",
            error_code="not_configured",
        )

    def probe(self) -> Mapping[str, Any]:
        self.twilio.api.v2010.accounts(self.config["account_sid"]).fetch()
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        return errors.from_rest_exception(exc) or super().translate_exception(exc)


def _simulated_lookup(normalized: str, original: str) -> dict[str, Any]:
    if not normalized:
        return {"valid": False, "data": {"phone_number": str(original)}}
    if not sdk_available("phonenumbers"):  # a strict E.164 number, simulated without data
        return {
            "valid": True,
            "data": {
                "phone_number": normalized,
                "country_code": None,
                "carrier": {"name": None, "type": "unknown"},
                "line_type": "unknown",
            },
        }
    import phonenumbers
    from phonenumbers import carrier, number_type

    parsed = phonenumbers.parse(normalized)
    kind = {
        phonenumbers.PhoneNumberType.MOBILE: "mobile",
        phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
        phonenumbers.PhoneNumberType.VOIP: "nonFixedVoip",
    }.get(number_type(parsed), "unknown")
    return {
        "valid": True,
        "data": {
            "phone_number": normalized,
            "country_code": phonenumbers.region_code_for_number(parsed),
            "carrier": {"name": carrier.name_for_number(parsed, "en") or None, "type": kind},
            "line_type": kind,
        },
    }
