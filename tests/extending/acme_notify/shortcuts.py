"""One-call helpers for the rest of the project."""

from __future__ import annotations

import logging

from django.contrib.auth.base_user import AbstractBaseUser

from tests.extending.acme_notify.client import AcmeNotifyClient, NotificationResult

logger = logging.getLogger(__name__)


def device_token_for(user: AbstractBaseUser) -> str:
    """Acme Notify lets the mobile app register a device under an alias we choose: the user's pk."""
    return f"user-{user.pk}"


def notify_user(user: AbstractBaseUser, message: str) -> NotificationResult:
    """Push ``message`` to ``user``'s devices; returns the client's result dict."""
    result = AcmeNotifyClient().send_notification(device_token_for(user), message)
    if not result["success"]:
        logger.warning("Could not notify user %s: %s", user.pk, result["error"])
    return result
