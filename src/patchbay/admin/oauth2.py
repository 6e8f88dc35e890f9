"""OAuth2 connections in the admin: read-only tokens, and Connect/Disconnect on a service.

Token values are never shown, nor read: the lists defer the encrypted
column, and the pages show the status, expiry, scopes and who connected it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, RED, ReadOnlyAdmin, badge
from patchbay.core.declaration import oauth2
from patchbay.models import ExternalService, OAuth2Token

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

STATUS_COLOURS: dict[str, str] = {
    OAuth2Token.Status.ACTIVE: GREEN,
    OAuth2Token.Status.REAUTHORIZATION_REQUIRED: RED,
}

# An explicit list, so a field added later is not shown by default; never tokens.
_SHOWN_FIELDS = (
    "provider",
    "owner",
    "status_badge",
    "token_type",
    "expires_at",
    "scope_list",
    "last_error",
    "connected_by",
    "connected_at",
    "refreshed_at",
    "updated_at",
)


@admin.register(OAuth2Token)
class OAuth2TokenAdmin(ReadOnlyAdmin):
    """Every OAuth2 connection, site-wide and per user; deleting one forgets it unrevoked."""

    list_display = [
        "provider",
        "owner",
        "status_badge",
        "expires_at",
        "scope_list",
        "connected_by",
        "connected_at",
        "refreshed_at",
    ]
    list_filter = ["provider", "status", ("user", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "connected_by"]
    search_fields = ["provider"]
    fields = _SHOWN_FIELDS
    readonly_fields = _SHOWN_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[OAuth2Token]:
        queryset: QuerySet[OAuth2Token] = super().get_queryset(request)
        return queryset.select_related("user", "connected_by").defer("tokens")

    @admin.display(description=_("connection of"), ordering="user")
    def owner(self, obj: OAuth2Token) -> str:
        return str(obj.user) if obj.user_id is not None else gettext("the site")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: OAuth2Token) -> SafeString:
        return status_badge(obj)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: OAuth2Token) -> str:
        return " ".join(obj.scopes) or "—"


def status_badge(token: OAuth2Token) -> SafeString:
    return badge(token.get_status_display(), STATUS_COLOURS.get(token.status, RED))


# -- the connection panel of an ExternalService change page ---------------------------


def is_oauth2_client(client_class: type[BaseClient] | None) -> bool:
    return client_class is not None and oauth2(client_class) is not None


def connection_panel(service: ExternalService, client_class: type[BaseClient]) -> SafeString:
    """The connection's state and its buttons, for the service's change page.

    The buttons submit the change form to the connect and disconnect views
    (``formaction``: a form cannot hold another), which send the user back to
    this page.
    """
    declared = oauth2(client_class)
    if declared is not None and declared.per_user:
        return _per_user_panel(service)
    token = (
        OAuth2Token.objects.filter(provider=service.provider, user__isnull=True)
        .select_related("connected_by")
        .defer("tokens")
        .first()
    )
    back = reverse("admin:patchbay_externalservice_change", args=[service.pk])
    if token is None:
        state = format_html("<p>{}</p>", gettext("Not connected."))
        buttons = [_button(service, "connect", gettext("Connect"), back)]
    else:
        state = _described(token)
        first = (
            _button(service, "connect", gettext("Reconnect"), back)
            if token.needs_reauthorization()
            else None
        )
        buttons = [
            *([first] if first is not None else []),
            _button(service, "disconnect", gettext("Disconnect"), back),
        ]
    return format_html(
        '{}<div class="submit-row" style="justify-content: flex-start;">{}</div>',
        state,
        format_html_join(" ", "{}", ((button,) for button in buttons)),
    )


def _described(token: OAuth2Token) -> SafeString:
    rows: list[tuple[Any, Any]] = [
        (gettext("Status"), status_badge(token)),
        (gettext("Expires"), token.expires_at or gettext("never (no lifetime given)")),
        (gettext("Scopes"), " ".join(token.scopes) or "—"),
        (gettext("Connected by"), token.connected_by or "—"),
        (gettext("Connected"), token.connected_at),
        (gettext("Last refreshed"), token.refreshed_at or "—"),
    ]
    if token.last_error:
        rows.append((gettext("Last error"), token.last_error))
    return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


def _button(service: ExternalService, action: str, label: str, back: str) -> SafeString:
    target = reverse(f"patchbay:oauth2-{action}", kwargs={"provider": service.provider})
    return format_html(
        '<button type="submit" class="button" formaction="{}?{}" formmethod="post" '
        "formnovalidate>{}</button>",
        target,
        urlencode({"next": back}),
        label,
    )


def _per_user_panel(service: ExternalService) -> SafeString:
    count = OAuth2Token.objects.filter(provider=service.provider, user__isnull=False).count()
    listing = reverse("admin:patchbay_oauth2token_changelist")
    return format_html(
        '<p>{} <a href="{}?{}">{}</a></p>',
        gettext("Each user connects their own account."),
        listing,
        urlencode({"provider": service.provider}),
        gettext("%(count)d connected") % {"count": count},
    )
