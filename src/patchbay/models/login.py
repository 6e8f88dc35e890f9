"""One-time sign-in links sent by email ("magic links")."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped


class LoginToken(TenantScoped):
    """A sign-in link for ``user``: usable once, until ``expires_at``.

    Only ``token_hash``, the SHA-256 of the token, is stored (see
    :mod:`patchbay.loops.login`); the token itself exists only in the email.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="patchbay_login_tokens",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    # Where to go after signing in; checked against the request's host when used.
    next_url = models.CharField(_("next URL"), max_length=2000, blank=True)
    ip_address = models.GenericIPAddressField(_("requested from"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("login token")
        verbose_name_plural = _("login tokens")

    def __str__(self) -> str:
        return f"Sign-in link for user {self.user_id}: {self.state()}"

    def state(self, now: datetime | None = None) -> str:
        """``used``, ``expired`` or ``pending``."""
        if self.used_at:
            return "used"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "pending"
