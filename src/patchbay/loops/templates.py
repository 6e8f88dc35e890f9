"""Loops transactional templates named in settings: their ids, and sending one.

The shortcuts (:mod:`patchbay.loops.shortcuts`) and the sign-in links
(:mod:`patchbay.loops.login`) send through :func:`send_template`, which
leaves suppressed addresses alone and, while simulating, delivers the events
Loops would send back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, overload

from django.contrib.auth.base_user import AbstractBaseUser

from patchbay.conf import conf
from patchbay.core.arguments import refusal, text
from patchbay.exceptions import ServiceError
from patchbay.loops import simulation
from patchbay.loops.client import LoopsClient, check_email
from patchbay.loops.events import is_suppressed
from patchbay.loops.results import EmailResult, QueuedEmailResult, QueuedEmailSuccess
from patchbay.loops.service import TEMPLATE_KEYS as TEMPLATE_KEYS
from patchbay.models import OutboundEmail
from patchbay.results import Failure, failure
from patchbay.tenancy import UNSET, tenant_scoped

#: Simulating, a template without a configured id is sent as ``simulated-<key>``.
SIMULATED_TEMPLATE_PREFIX = "simulated-"


def template_id(key: str, *, simulating: bool = False) -> str | None:
    """The Loops transactional id configured for ``key``, if any.

    ``simulating``, a key without an id gets ``simulated-<key>``: simulation
    needs no Loops account, so no template ids either.
    """
    ids: Mapping[str, Any] = conf.LOOPS_TRANSACTIONAL_IDS or {}
    value = ids.get(key)
    if value:
        return str(value)
    return SIMULATED_TEMPLATE_PREFIX + key if simulating else None


@overload
def send_template(
    key: str,
    to_email: str,
    data_variables: dict[str, Any],
    *,
    ignore_suppression: bool = ...,
    background: Literal[False],
    tenant: object = ...,
    **kwargs: Any,
) -> EmailResult: ...
@overload
def send_template(
    key: str,
    to_email: str,
    data_variables: dict[str, Any],
    *,
    ignore_suppression: bool = ...,
    background: Literal[True],
    tenant: object = ...,
    **kwargs: Any,
) -> QueuedEmailResult: ...
@overload
def send_template(
    key: str,
    to_email: str,
    data_variables: dict[str, Any],
    *,
    ignore_suppression: bool = ...,
    background: bool | None = ...,
    tenant: object = ...,
    **kwargs: Any,
) -> EmailResult | QueuedEmailResult: ...
@tenant_scoped
def send_template(
    key: str,
    to_email: str,
    data_variables: dict[str, Any],
    *,
    ignore_suppression: bool = False,
    background: bool | None = None,
    tenant: object = UNSET,
    **kwargs: Any,
) -> EmailResult | QueuedEmailResult:
    """Send the ``LOOPS_TRANSACTIONAL_IDS[key]`` template, unless the address is suppressed.

    The building block of the shortcuts, for your own templates too. kwargs go
    to :meth:`LoopsClient.transactional_email` (``idempotency_key``...).
    Simulating, a template without an id is sent as ``simulated-<key>``; live,
    it is a ``not_configured`` failure. A ``key`` that is not a string is
    ``invalid_request``; the client checks the rest.

    ``background`` (default :setting:`PATCHBAY_SEND_IN_BACKGROUND`): save an
    :class:`~patchbay.models.OutboundEmail` in the caller's transaction and
    send it from a task once that commits (a rollback sends nothing), with an
    idempotency key made from the row; the result is ``queued: True`` with
    ``email_id`` and ``idempotency_key``. A refusal (suppressed, no template
    id, an invalid address) is returned at once.
    """
    if background is None:
        background = conf.SEND_IN_BACKGROUND is True
    try:
        key = text(key, "key", max_length=100)
    except ServiceError as exc:
        return refusal(exc)
    client = LoopsClient()
    transactional_id = template_id(key, simulating=client.debug_mode)
    if not transactional_id:
        return failure(
            f"LOOPS_TRANSACTIONAL_IDS has no {key!r} template id.", error_code="not_configured"
        )
    given: object = to_email
    # The client refuses the rest (NUL would not even make a query on PostgreSQL).
    address = given if isinstance(given, str) and "\x00" not in given else ""
    suppression = None if ignore_suppression or not address else is_suppressed(address)
    if suppression is not None:
        return failure(
            f"{to_email} is suppressed ({suppression.reason} on "
            f"{suppression.created_at:%Y-%m-%d}); pass ignore_suppression=True or delete "
            "its EmailSuppression to email it.",
            error_code="suppressed",
        )
    if background is True:
        queued = _queue(key, address, data_variables, ignore_suppression, kwargs)
        if queued is not None:
            return queued
    result = client.transactional_email(to_email, transactional_id, data_variables, **kwargs)
    if result["success"] and result.get("simulated"):
        simulation.deliver_transactional_events(to_email, transactional_id)
    return result


def _queue(
    key: str,
    address: str,
    data_variables: object,
    ignore_suppression: object,
    options: dict[str, Any],
) -> QueuedEmailSuccess | Failure | None:
    """Save the email and send it after commit; None to send now (the client refuses it)."""
    from patchbay.core.tasks import enqueue_on_commit
    from patchbay.loops.tasks import deliver_email

    try:
        address = check_email(address)
    except ServiceError:
        return None
    payload = {
        "data_variables": data_variables if data_variables is not None else {},
        "options": options,
        "ignore_suppression": ignore_suppression is True,
    }
    try:
        json.dumps(payload)
    except (TypeError, ValueError):
        return failure(
            "A background email takes JSON values only (it is stored until sent).",
            error_code="invalid_request",
        )
    # The field reads and writes a dict (django-stubs types it as the TextField it is).
    fields: dict[str, Any] = {"template_key": key, "to_email": address, "payload": payload}
    row = OutboundEmail.objects.create(**fields)
    enqueue_on_commit(deliver_email, row.pk)
    return {
        "success": True,
        "queued": True,
        "email_id": row.pk,
        "idempotency_key": row.idempotency_key,
    }


def display_name(user: AbstractBaseUser) -> str:
    full_name: str = getattr(user, "get_full_name", lambda: "")() or ""
    return full_name or str(getattr(user, "get_username", lambda: "")())
