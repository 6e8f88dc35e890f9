"""OAuth2 tokens of the services a site (or each of its users) connected."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patchbay.fields import EncryptedJSONField
from patchbay.models.tenancy import TenantScoped


class OAuth2TokenStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REAUTHORIZATION_REQUIRED = "reauthorization_required", _("Reauthorization required")


class OAuth2Token(TenantScoped):
    """The tokens of one OAuth2 connection: site-wide (``user`` is None) or one user's.

    ``tokens`` holds the access token, the refresh token and any ID token,
    encrypted at rest; they are read through :attr:`access_token` and
    :attr:`refresh_token` and never appear in ``repr``, ``str`` or the admin.
    """

    Status = OAuth2TokenStatus

    provider = models.SlugField(_("provider"), max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="patchbay_oauth2_tokens",
        verbose_name=_("user"),
        help_text=_("Empty for the site-wide connection."),
    )
    tokens = EncryptedJSONField(_("tokens"), editable=False)
    token_type = models.CharField(_("token type"), max_length=40, default="Bearer")
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=OAuth2TokenStatus.choices, default="active"
    )
    last_error = models.TextField(_("last error"), blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("connected by"),
    )
    connected_at = models.DateTimeField(_("connected"), default=timezone.now)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["provider", "id"]
        verbose_name = _("OAuth2 token")
        verbose_name_plural = _("OAuth2 tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "provider"],
                condition=models.Q(user__isnull=True),
                name="patchbay_oauth2token_one_site_wide",
            ),
            models.UniqueConstraint(
                fields=["tenant_key", "provider", "user"],
                condition=models.Q(user__isnull=False),
                name="patchbay_oauth2token_one_per_user",
            ),
        ]

    def __str__(self) -> str:
        owner = f"user {self.user_id}" if self.user_id is not None else "site-wide"
        return f"{self.provider} ({owner}, {self.status})"

    def __repr__(self) -> str:
        # Never the tokens, even encrypted.
        return (
            f"<OAuth2Token {self.provider} user={self.user_id} status={self.status} "
            f"expires_at={self.expires_at and self.expires_at.isoformat()}>"
        )

    @property
    def access_token(self) -> str:
        return str(self.tokens.get("access_token") or "")

    @property
    def refresh_token(self) -> str:
        return str(self.tokens.get("refresh_token") or "")

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether the access token is past its expiry (a token without one never expires)."""
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def expires_soon(self, skew: float, now: datetime | None = None) -> bool:
        """Whether the access token expires within ``skew`` seconds (or already has)."""
        moment = (now or timezone.now()) + timedelta(seconds=skew)
        return self.is_expired(moment)

    def needs_reauthorization(self) -> bool:
        return self.status == OAuth2TokenStatus.REAUTHORIZATION_REQUIRED
