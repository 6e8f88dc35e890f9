"""The tokens machine clients of the management API authenticate with."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantManager, TenantScoped

#: What every token starts with, so that a leaked one is recognisable (secret scanners).
TOKEN_PREFIX = "pbt_"  # noqa: S105  # nosec B105  # a prefix, not a secret


def token_digest(token: str) -> str:
    """The SHA-256 of ``token``: what is stored, and what a presented token is looked up by.

    A token carries 256 random bits, so a fast hash is enough (as for GitHub's
    or PyPI's tokens): no dictionary reaches it, and a lookup stays one query.
    """
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class APITokenManager(TenantManager["APIToken"]):
    def issue(self, user: Any, name: str = "") -> tuple[APIToken, str]:
        """A new token for ``user``: its row and the token itself, shown only now."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = self.create(user=user, name=name, digest=token_digest(token), hint=token[-4:])
        return row, token


class APIToken(TenantScoped):
    """A bearer token of the management API; only its digest is stored.

    Requests made with it act as ``user``: that user's staff status and model
    permissions decide what the token may do.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="patchbay_api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The token's last four characters, to tell tokens apart without storing them.
    hint = models.CharField(_("ends with"), max_length=4, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects: ClassVar[APITokenManager] = APITokenManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name or _('API token')} (…{self.hint})"

    def __repr__(self) -> str:
        return f"<APIToken {self.pk} user={self.user_id} …{self.hint}>"
