"""High-level Loops functions: the spec's emails, from templates named in settings.

``send_login_code_email`` and ``send_login_link_to_address`` live with the sign-in
links (:mod:`patchbay.loops.login`),
and ``send_template`` and ``template_id`` with the templates
(:mod:`patchbay.loops.templates`); they are imported here, where the spec and the
docs name them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from patchbay.loops.login import send_login_code_email as send_login_code_email
from patchbay.loops.login import send_login_link_to_address as send_login_link_to_address
from patchbay.loops.password_reset import (
    send_password_reset_to_address as send_password_reset_to_address,
)
from patchbay.loops.results import EmailResult, QueuedEmailResult
from patchbay.loops.templates import TEMPLATE_KEYS as TEMPLATE_KEYS
from patchbay.loops.templates import display_name
from patchbay.loops.templates import send_template as send_template
from patchbay.loops.templates import template_id as template_id
from patchbay.tenancy import UNSET

logger = logging.getLogger("patchbay.loops")


def _log_failure(what: str, result: EmailResult | QueuedEmailResult) -> None:
    if not result["success"]:
        logger.error("%s was not sent: [%s] %s", what, result["error_code"], result["error"])


def send_password_reset_email(
    user: AbstractBaseUser,
    reset_url: str,
    *,
    ignore_suppression: bool = False,
    background: bool | None = None,
    tenant: object = UNSET,
) -> None:
    """Email ``reset_url`` with the ``password_reset`` template (``resetUrl``, ``name``).

    Returns None, as the spec says (a password reset form must not tell whether
    the address exists or could be emailed); failures are logged. Use
    :func:`send_template` for the result. ``background``: sent from a task
    after the caller's transaction commits (see :func:`send_template`).
    """
    result = send_template(
        "password_reset",
        getattr(user, "email", ""),
        {"resetUrl": reset_url, "name": display_name(user)},
        ignore_suppression=ignore_suppression,
        background=background,
        tenant=tenant,
    )
    _log_failure("The password reset email", result)


def send_team_membership_email(
    membership: Any,
    *,
    ignore_suppression: bool = False,
    background: bool | None = None,
    tenant: object = UNSET,
) -> bool:
    """Tell ``membership.user`` they joined ``membership.team`` as ``membership.role``.

    Duck-typed: any object with ``user``, ``team`` and ``role``. Template
    ``team_membership`` with ``name``, ``teamName`` and ``role``. Returns
    whether it was sent, a ``bool`` as the spec says; failures are logged. Use
    :func:`send_template` for the result. ``background``: sent from a task
    after the caller's transaction commits; True then means it was queued.
    """
    user = getattr(membership, "user", None)
    if user is None:
        logger.error("The team membership email was not sent: %r has no user.", membership)
        return False
    role = getattr(membership, "get_role_display", None)
    result = send_template(
        "team_membership",
        getattr(user, "email", ""),
        {
            "name": display_name(user),
            "teamName": str(getattr(membership, "team", "")),
            "role": str(role() if callable(role) else getattr(membership, "role", "")),
        },
        ignore_suppression=ignore_suppression,
        background=background,
        tenant=tenant,
    )
    _log_failure("The team membership email", result)
    return bool(result["success"])
