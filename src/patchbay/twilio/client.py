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
from patchbay.core.arguments import optional_text, text
from patchbay.core.client import BaseClient
from patchbay.core.request import Request
from patchbay.core.sdk import sdk_available
from patchbay.core.simulation import fake_id
from patchbay.exceptions import ServiceError
from patchbay.tenancy import UNSET, webhook_path
from patchbay.twilio import errors, numbers
from patchbay.twilio.results import (
    LookupResult,
    LookupSuccess,
    MessageStatusResult,
    MessageStatusSuccess,
    SMSResult,
    SMSSuccess,
    VerificationCheckResult,
    VerificationCheckSuccess,
    VerificationStartResult,
    VerificationStartSuccess,
)
from patchbay.twilio.service import SERVICE

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


def status_callback_url(tenant_key: str = "") -> str | None:
    """The public URL of the status callback endpoint, when ``PATCHBAY_PUBLIC_URL`` is set.

    A tenant's messages report to the tenant's own endpoint, verified with its auth token.

    Raises :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    the setting is set but ``patchbay.urls`` is not mounted: sending without the
    callback would leave the message's status unknown for good.
    """
    if not conf.PUBLIC_URL:
        return None
    return conf.PUBLIC_URL + webhook_path("twilio-status-callback", tenant_key)


class TwilioClient(BaseClient):
    """SMS/WhatsApp messages, number lookups and delivery status."""

    declaration = SERVICE

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        debug_mode: bool | None = None,
        *,
        tenant: object = UNSET,
    ) -> None:
        super().__init__(
            debug_mode=debug_mode,
            tenant=tenant,
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
        to_number: str | numbers.Address,
        body: str,
        from_number: str | None = None,
        status_callback: str | None = None,
        channel: str | None = None,
    ) -> SMSResult:
        """Send an SMS (or WhatsApp message: ``channel="whatsapp"`` or a ``whatsapp:`` number).

        Result keys ``sid``, ``status``, plus ``to``, ``from`` and ``channel`` as sent.
        ``to_number`` may be an already parsed :class:`~patchbay.twilio.numbers.Address`
        (its channel wins over ``channel``), so that it is not parsed again.
        """
        return self.perform(
            SendSMS.build, self, to_number, body, from_number, status_callback, channel
        )

    def verify_phone_number(self, phone_number: str) -> LookupResult:
        """Look a number up (Lookup v2): ``valid``, and ``data`` with ``carrier`` and ``line_type``.

        An unparseable number is simply not valid; no call is made for it.
        """
        return self.perform(LookUpNumber.build, self, phone_number)

    def get_message_status(self, message_sid: str) -> MessageStatusResult:
        """``status`` and ``data`` with ``error_code`` and ``error_message`` of a message."""
        return self.perform(FetchMessageStatus.build, message_sid)

    # -- Twilio Verify: the ``twilio_verify`` backend of patchbay.twilio.verification -------

    def start_verification(
        self, phone_number: str, channel: str = "sms"
    ) -> VerificationStartResult:
        """Have Twilio Verify send a code: ``sid``, ``status``, ``to`` and ``channel``.

        Uses the service ``TWILIO_VERIFY_SERVICE_SID``; ``channel`` is ``"sms"``,
        ``"call"`` or ``"whatsapp"``. Simulating, the code sent is
        :func:`~patchbay.twilio.codes.simulated_verify_code`, kept in the outbox only.
        """
        return self.perform(StartVerification.build, self, phone_number, channel)

    def check_verification(self, phone_number: str, code: str) -> VerificationCheckResult:
        """Check ``code`` with Twilio Verify: ``approved``, ``status`` and ``sid``.

        A wrong code is a success with ``approved`` False and ``status`` ``"pending"``.
        No pending verification (expired, already approved, or never started) gives
        ``status`` ``"not_found"``; too many wrong checks, ``"max_attempts_reached"``.
        """
        return self.perform(CheckVerification.build, self, phone_number, code)

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

    def basic_auth(self) -> list[tuple[str, str]]:
        # The SDK authenticates every request with Basic base64(account_sid:auth_token).
        sid, token = self.config.get("account_sid"), self.config.get("auth_token")
        return [(str(sid), str(token))] if sid and token else []

    def probe(self) -> Mapping[str, Any]:
        self.twilio.api.v2010.accounts(self.config["account_sid"]).fetch()
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        return errors.from_rest_exception(exc) or super().translate_exception(exc)

    def retry_after(self, exc: Exception) -> float | None:
        if getattr(exc, "code", None) in errors.ONE_NUMBER_LIMITS:
            return 0  # one number's limit: every other call may go
        return super().retry_after(exc)


# -- the requests of the operations above --------------------------------------------------


def _verify_service_sid(client: TwilioClient) -> str:
    service_sid = conf.TWILIO_VERIFY_SERVICE_SID
    if not (service_sid or client.debug_mode):
        raise ServiceError(
            "Twilio Verify is not configured: set TWILIO_VERIFY_SERVICE_SID.",
            error_code="not_configured",
        )
    return service_sid


class SendSMS(Request[SMSSuccess]):
    """A message with its destination parsed, its sender chosen and its callback URL."""

    operation = "send_sms"

    def __init__(
        self,
        to: numbers.Address,
        body: str,
        sender: Mapping[str, str],
        status_callback: str | None,
    ) -> None:
        self.to, self.body, self.sender, self.status_callback = to, body, sender, status_callback

    @classmethod
    def build(
        cls,
        client: TwilioClient,
        to_number: str | numbers.Address,
        body: object,
        from_number: object,
        status_callback: object,
        channel: str | None,
    ) -> SendSMS:
        if not isinstance(body, str) or not 1 <= len(body) <= MAX_BODY_LENGTH or "\x00" in body:
            raise ServiceError(
                f"The message body must be 1 to {MAX_BODY_LENGTH} characters (and no NUL).",
                error_code="invalid_body",
            )
        to = (
            to_number
            if isinstance(to_number, numbers.Address)
            else numbers.parse_address(to_number, channel, simulating=client.debug_mode)
        )
        numbers.check_country(to.number)
        sender = client._sender(optional_text(from_number, "from_number"), to.channel)
        callback = optional_text(status_callback, "status_callback", max_length=2048)
        return cls(to, body, sender, callback or status_callback_url(client.tenant_key))

    @property
    def sent_from(self) -> str | None:
        return self.sender.get("from_") or self.sender.get("messaging_service_sid")

    def params(self) -> Mapping[str, Any]:
        return {"to": self.to.twilio, "body_length": len(self.body), "channel": self.to.channel}

    def private(self) -> Mapping[str, Any]:
        return {"body": self.body}

    def send(self, client: TwilioClient) -> SMSSuccess:
        fields: dict[str, Any] = {"to": self.to.twilio, "body": self.body, **self.sender}
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        try:
            sent = client.twilio.messages.create(**fields)
        except Exception as exc:
            raise errors.unknown_outcome(exc) from exc
        return self._result(sent.sid, sent.status)

    def simulate(self, client: TwilioClient) -> SMSSuccess:
        return self._result(fake_id("SM", 32), "queued")

    def _result(self, sid: str, status: str) -> SMSSuccess:
        return {
            "success": True,
            "sid": sid,
            "status": status,
            "to": self.to.twilio,
            "from": self.sent_from,
            "channel": self.to.channel,
        }


class LookUpNumber(Request[LookupSuccess]):
    """A Lookup v2 of a number, normalized; "" for one that does not parse (not valid)."""

    operation = "verify_phone_number"

    def __init__(self, phone_number: str, normalized: str) -> None:
        self.phone_number, self.normalized = phone_number, normalized

    @classmethod
    def build(cls, client: TwilioClient, phone_number: str) -> LookUpNumber:
        try:
            normalized = numbers.normalize(phone_number, simulating=client.debug_mode)
        except ServiceError:
            normalized = ""
        return cls(phone_number, normalized)

    def params(self) -> Mapping[str, Any]:
        return {"phone_number": self.phone_number}

    def send(self, client: TwilioClient) -> LookupSuccess:
        if not self.normalized:
            return {
                "success": True,
                "valid": False,
                "data": {"phone_number": str(self.phone_number)},
            }
        found = client.twilio.lookups.v2.phone_numbers(self.normalized).fetch(
            fields="line_type_intelligence"
        )
        intelligence = found.line_type_intelligence or {}
        return {
            "success": True,
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

    def simulate(self, client: TwilioClient) -> LookupSuccess:
        return _simulated_lookup(self.normalized, self.phone_number)


class FetchMessageStatus(Request[MessageStatusSuccess]):
    """The status of one message, by its sid."""

    operation = "get_message_status"

    def __init__(self, message_sid: str) -> None:
        self.message_sid = message_sid

    @classmethod
    def build(cls, message_sid: object) -> FetchMessageStatus:
        return cls(text(message_sid, "message_sid", max_length=64))

    def params(self) -> Mapping[str, Any]:
        return {"message_sid": self.message_sid}

    def send(self, client: TwilioClient) -> MessageStatusSuccess:
        found = client.twilio.messages(self.message_sid).fetch()
        return {
            "success": True,
            "status": found.status,
            "data": {
                "sid": found.sid,
                "error_code": found.error_code,
                "error_message": found.error_message,
                "to": found.to,
                "from": found.from_,
            },
        }

    def simulate(self, client: TwilioClient) -> MessageStatusSuccess:
        return {
            "success": True,
            "status": "delivered",
            "data": {"sid": self.message_sid, "error_code": None, "error_message": None},
        }


class StartVerification(Request[VerificationStartSuccess]):
    """A Twilio Verify code to send: the number normalized, the Verify service chosen."""

    operation = "start_verification"

    def __init__(self, phone_number: str, to: str, channel: str, service_sid: str) -> None:
        self.phone_number, self.to, self.channel = phone_number, to, channel
        self.service_sid = service_sid

    @classmethod
    def build(cls, client: TwilioClient, phone_number: str, channel: str) -> StartVerification:
        if channel not in ("sms", "call", "whatsapp"):
            raise ServiceError(
                f"Unknown channel {channel!r}: use 'sms', 'call' or 'whatsapp'.",
                error_code="invalid_channel",
            )
        to = numbers.normalize(phone_number, simulating=client.debug_mode)
        numbers.check_country(to)
        return cls(phone_number, to, channel, _verify_service_sid(client))

    def params(self) -> Mapping[str, Any]:
        return {"to": self.phone_number, "channel": self.channel}

    def private(self) -> Mapping[str, Any]:
        # Only simulating is the code known here (see simulate()); the outbox keeps it.
        from patchbay.twilio.codes import simulated_verify_code

        return {"code": simulated_verify_code(self.to)}

    def send(self, client: TwilioClient) -> VerificationStartSuccess:
        service = client.twilio.verify.v2.services(self.service_sid)
        try:
            started = service.verifications.create(to=self.to, channel=self.channel)
        except Exception as exc:
            raise errors.unknown_outcome(exc) from exc
        return {
            "success": True,
            "sid": started.sid,
            "status": started.status,
            "to": started.to,
            "channel": started.channel,
        }

    def simulate(self, client: TwilioClient) -> VerificationStartSuccess:
        return {
            "success": True,
            "sid": fake_id("VE", 32),
            "status": "pending",
            "to": self.to,
            "channel": self.channel,
        }


class CheckVerification(Request[VerificationCheckSuccess]):
    """A code to check with Twilio Verify: the number normalized, the code cleaned."""

    operation = "check_verification"

    def __init__(self, phone_number: str, to: str, code: str, service_sid: str) -> None:
        self.phone_number, self.to, self.code = phone_number, to, code
        self.service_sid = service_sid

    @classmethod
    def build(cls, client: TwilioClient, phone_number: str, code: str) -> CheckVerification:
        from patchbay.twilio.codes import clean_code

        to = numbers.normalize(phone_number, simulating=client.debug_mode)
        cleaned = clean_code(code, twilio_verify=True) or ""
        if not cleaned:
            raise ServiceError("The code must be 4 to 10 digits.", error_code="invalid_code")
        return cls(phone_number, to, cleaned, _verify_service_sid(client))

    def params(self) -> Mapping[str, Any]:
        return {"to": self.phone_number}

    def private(self) -> Mapping[str, Any]:
        return {"code": self.code}

    def send(self, client: TwilioClient) -> VerificationCheckSuccess:
        from twilio.base.exceptions import TwilioRestException

        service = client.twilio.verify.v2.services(self.service_sid)
        try:
            checked = service.verification_checks.create(to=self.to, code=self.code)
        except TwilioRestException as exc:
            # Answers about the verification, not failures of the service.
            if exc.status == 404 or exc.code == 20404:
                return {"success": True, "approved": False, "status": "not_found", "sid": None}
            if exc.code == 60202:
                return {
                    "success": True,
                    "approved": False,
                    "status": "max_attempts_reached",
                    "sid": None,
                }
            raise
        return {
            "success": True,
            "approved": checked.status == "approved",
            "status": checked.status,
            "sid": checked.sid,
        }

    def simulate(self, client: TwilioClient) -> VerificationCheckSuccess:
        from patchbay.twilio.codes import code_matches_simulated

        approved = code_matches_simulated(self.to, self.code)
        return {
            "success": True,
            "approved": approved,
            "status": "approved" if approved else "pending",
            "sid": fake_id("VE", 32),
        }


def _simulated_lookup(normalized: str, original: str) -> LookupSuccess:
    if not normalized:
        return {"success": True, "valid": False, "data": {"phone_number": str(original)}}
    if not sdk_available("phonenumbers"):  # a strict E.164 number, simulated without data
        return {
            "success": True,
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
        "success": True,
        "valid": True,
        "data": {
            "phone_number": normalized,
            "country_code": phonenumbers.region_code_for_number(parsed),
            "carrier": {"name": carrier.name_for_number(parsed, "en") or None, "type": kind},
            "line_type": kind,
        },
    }
