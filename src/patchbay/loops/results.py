"""The result types of the Loops client and shortcuts (see :mod:`patchbay.results`)."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from patchbay.results import Failure, NotRequired, RateLimitedFailure, Success

__all__ = [
    "ApiKeyResult",
    "ApiKeySuccess",
    "ContactResult",
    "ContactSuccess",
    "EmailResult",
    "EmailSuccess",
    "FoundContactResult",
    "FoundContactSuccess",
    "LoginLinkRequestResult",
    "LoginLinkRequested",
    "LoginLinkResult",
    "LoginLinkSuccess",
    "QueuedEmailResult",
    "QueuedEmailSuccess",
]


class EmailSuccess(Success):
    """A transactional email or an event was accepted (or was already: ``duplicate``).

    ``data`` is Loops' answer; ``bcc`` has one result per BCC copy, when asked for.
    """

    data: Any
    idempotency_key: str
    duplicate: bool
    bcc: NotRequired[list[EmailResult]]


EmailResult = EmailSuccess | Failure


class QueuedEmailSuccess(Success):
    """:func:`~patchbay.loops.templates.send_template` with ``background``: sent after commit.

    ``email_id`` is its :class:`~patchbay.models.OutboundEmail` row;
    ``idempotency_key`` the key every attempt to send it uses.
    """

    queued: Literal[True]
    email_id: int
    idempotency_key: str


QueuedEmailResult = QueuedEmailSuccess | Failure


class ApiKeySuccess(Success):
    """:meth:`LoopsClient.test_api_key`: whether the key is ``valid``, and its team."""

    valid: bool
    team_name: str | None


ApiKeyResult = ApiKeySuccess | Failure


class ContactSuccess(Success):
    """A contact was created, updated or deleted: Loops' ``contact_id`` when it gives one."""

    contact_id: str | None


ContactResult = ContactSuccess | Failure


class FoundContactSuccess(Success):
    """:meth:`LoopsClient.find_contact`: the ``contact``, or None."""

    contact: dict[str, Any] | None


FoundContactResult = FoundContactSuccess | Failure


class LoginLinkSuccess(Success):
    """:func:`~patchbay.loops.login.send_login_link`: the link was emailed (or queued).

    With ``background``, ``queued`` is True and ``email_id`` the
    :class:`~patchbay.models.OutboundEmail` that will carry the link.
    """

    login_token_id: int
    expires_at: datetime.datetime
    queued: NotRequired[Literal[True]]
    email_id: NotRequired[int]


LoginLinkResult = LoginLinkSuccess | RateLimitedFailure


class LoginLinkRequested(Success):
    """:func:`~patchbay.loops.login.send_login_link_to_address`: accepted, whatever the address.

    Nothing more: whether an account uses the address, and whether its link was
    sent, is decided after the response and logged, never told to the caller.
    """


LoginLinkRequestResult = LoginLinkRequested | RateLimitedFailure
