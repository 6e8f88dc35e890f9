"""The result types of the Twilio client and shortcuts (see :mod:`patchbay.results`)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from patchbay.results import Failure, NotRequired, RateLimitedFailure, Success

__all__ = [
    "LookupResult",
    "LookupSuccess",
    "MessageStatusResult",
    "MessageStatusSuccess",
    "PhoneCodeFailure",
    "PhoneCodeResult",
    "PhoneCodeSuccess",
    "PhoneVerificationResult",
    "PhoneVerificationSuccess",
    "QueuedSMSResult",
    "QueuedSMSSuccess",
    "SMSResult",
    "SMSStatusFailure",
    "SMSStatusResult",
    "SMSStatusSuccess",
    "SMSSuccess",
    "TrackedSMSFailure",
    "TrackedSMSResult",
    "TrackedSMSSuccess",
    "VerificationCheckResult",
    "VerificationCheckSuccess",
    "VerificationStartResult",
    "VerificationStartSuccess",
]

# "from" is a keyword: only the functional syntax can name the key.
_Sender = TypedDict("_Sender", {"from": str | None})


class SMSSuccess(Success, _Sender):
    """:meth:`TwilioClient.send_sms`: the message's ``sid`` and ``status``, and where it went.

    ``from`` is the sender number, or the messaging service's sid.
    """

    sid: str
    status: str
    to: str
    channel: str


SMSResult = SMSSuccess | Failure


class TrackedSMSSuccess(SMSSuccess):
    """:func:`~patchbay.twilio.shortcuts.send_sms`: ``sms_id`` of its row when it saved one."""

    sms_id: NotRequired[int]


class TrackedSMSFailure(Failure):
    """A failed tracked send; its row (``sms_id``) is saved too when it saves rows."""

    sms_id: NotRequired[int]


TrackedSMSResult = TrackedSMSSuccess | TrackedSMSFailure


class QueuedSMSSuccess(Success):
    """:func:`~patchbay.twilio.shortcuts.send_sms` with ``background``: saved, sent after commit.

    ``status`` is ``"pending"``; the row (``sms_id``) moves on as the task sends it.
    """

    queued: Literal[True]
    sms_id: int
    status: str
    to: str
    channel: str


QueuedSMSResult = QueuedSMSSuccess | TrackedSMSFailure


class LookupSuccess(Success):
    """A Lookup v2: ``valid``, and ``data`` with ``phone_number``, ``carrier``, ``line_type``."""

    valid: bool
    data: dict[str, Any]


LookupResult = LookupSuccess | Failure


class MessageStatusSuccess(Success):
    """A message's ``status``; ``data`` has ``sid``, ``error_code`` and ``error_message``."""

    status: str
    data: dict[str, Any]


MessageStatusResult = MessageStatusSuccess | Failure


class SMSStatusSuccess(Success):
    """:func:`~patchbay.twilio.shortcuts.get_sms_status`: a tracked message's status."""

    sms_id: int
    status: str
    #: None for a message that never reached Twilio.
    sid: str | None
    data: dict[str, Any]


class SMSStatusFailure(Failure):
    """Fetching the status failed: ``sms_id`` and the ``status`` stored, when the row exists."""

    sms_id: NotRequired[int]
    status: NotRequired[str]


SMSStatusResult = SMSStatusSuccess | SMSStatusFailure


class VerificationStartSuccess(Success):
    """Twilio Verify sent a code: the verification's ``sid`` and ``status``."""

    sid: str
    status: str
    to: str
    channel: str


VerificationStartResult = VerificationStartSuccess | Failure


class VerificationCheckSuccess(Success):
    """Twilio Verify checked a code: ``approved``, ``status`` and ``sid`` (None if not found)."""

    approved: bool
    status: str
    sid: str | None


VerificationCheckResult = VerificationCheckSuccess | Failure


class PhoneVerificationSuccess(Success):
    """:func:`~patchbay.twilio.verification.initiate_phone_verification`: a code was sent."""

    sms_id: int | None
    verification_sid: NotRequired[str]
    phone_number: str
    expires_in: int


PhoneVerificationResult = PhoneVerificationSuccess | RateLimitedFailure


class PhoneCodeSuccess(Success):
    """:func:`~patchbay.twilio.verification.verify_phone_code`: the code was right."""

    verified: Literal[True]
    phone_number: str


class PhoneCodeFailure(Failure):
    """:func:`~patchbay.twilio.verification.verify_phone_code`: the code was not accepted.

    ``attempts_left``: guesses the code still allows, after a wrong code.
    ``new_code_in``: seconds before a new code may be requested for the
    number, when the send limit blocks one now.
    """

    attempts_left: NotRequired[int]
    new_code_in: NotRequired[int]


PhoneCodeResult = PhoneCodeSuccess | PhoneCodeFailure | Failure
