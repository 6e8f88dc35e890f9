"""The ExternalService form: write-only secrets and one input per configuration value.

A provider with a registered client gets a password input per secret field
(never rendered back, blank keeps the stored value, a checkbox clears it) and
a text input per non-secret field, stored in ``options``. A provider without
a registered client falls back to editing ``options`` as JSON.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patchbay.core.config import field_label
from patchbay.core.registry import declarations
from patchbay.models import ExternalService

if TYPE_CHECKING:
    # For annotations only: the admin is imported at every start, the client
    # machinery when the registry is first read.
    from patchbay.core.client import BaseClient
    from patchbay.core.config import ConfigField

SECRET_PREFIX = "secret__"  # noqa: S105  # nosec B105  # a form field prefix, not a secret
CLEAR_PREFIX = "clear__"
OPTION_PREFIX = "option__"


class ExternalServiceForm(forms.ModelForm):  # type: ignore[type-arg]
    """The fields every service has; :func:`service_form` adds its configuration."""

    client_class: ClassVar[type[BaseClient] | None] = None
    #: The tenant a scoped admin user saves rows for (see :mod:`patchbay.admin.tenancy`).
    scope_tenant_key: ClassVar[str | None] = None

    class Meta:
        model = ExternalService
        fields = ["provider", "name", "enabled", "options"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "provider" in self.fields:
            self.fields["provider"].help_text = _provider_help()
        for name in _option_names(self.client_class):
            self.initial.setdefault(OPTION_PREFIX + name, self.instance.options.get(name, ""))

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if self.scope_tenant_key is not None:
            self.instance.tenant_key = self.scope_tenant_key
        provider = cleaned_data.get("provider")
        # The (tenant, provider) constraint names a field the form has not: checked here.
        if provider and self.instance._state.adding:
            others = ExternalService.objects.filter(
                tenant_key=self.instance.tenant_key, provider=provider
            )
            if others.exists():
                self.add_error("provider", gettext("This service is configured already."))
        for name in _secret_names(self.client_class):
            if cleaned_data.get(SECRET_PREFIX + name) and cleaned_data.get(CLEAR_PREFIX + name):
                self.add_error(
                    CLEAR_PREFIX + name,
                    gettext("Enter a new value or clear the stored one, not both."),
                )
        return cleaned_data

    def save(self, commit: bool = True) -> ExternalService:
        if self.client_class is not None:
            self.instance.credentials = self._updated_credentials()
            self.instance.options = self._updated_options()
        service: ExternalService = super().save(commit)
        return service

    def _updated_credentials(self) -> dict[str, Any]:
        from patchbay.core.services import updated_credentials

        names = _secret_names(self.client_class)
        return updated_credentials(
            self.instance.credentials,
            new={
                name: value
                for name in names
                if (value := self.cleaned_data.get(SECRET_PREFIX + name))
            },
            cleared=[name for name in names if self.cleaned_data.get(CLEAR_PREFIX + name)],
        )

    def _updated_options(self) -> dict[str, Any]:
        # Keys no field knows about (set in code or by an older version) are kept.
        options = dict(self.instance.options)
        for name in _option_names(self.client_class):
            value = self.cleaned_data.get(OPTION_PREFIX + name)
            if value:
                options[name] = value
            else:
                options.pop(name, None)
        return options


def service_form(
    client_class: type[BaseClient], *, stored: Collection[str], unreadable: bool = False
) -> type[ExternalServiceForm]:
    """The form for ``client_class``'s row; ``stored`` names the secrets it holds.

    ``unreadable``: the row holds credentials no configured key decrypts, so
    which secrets it holds is unknown.
    """
    attrs: dict[str, Any] = {"client_class": client_class}
    for name, field in client_class.config_fields.items():
        label = field_label(name, field)
        if field.secret:
            attrs[SECRET_PREFIX + name] = forms.CharField(
                label=label,
                required=False,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
                help_text=_secret_help(field, is_stored=name in stored, unreadable=unreadable),
            )
            if name in stored:
                attrs[CLEAR_PREFIX + name] = forms.BooleanField(
                    label=_("Clear stored value"), required=False
                )
        else:
            attrs[OPTION_PREFIX + name] = forms.CharField(
                label=label, required=False, help_text=_option_help(field)
            )
    return type(f"{client_class.__name__}ServiceForm", (ExternalServiceForm,), attrs)


def secret_field_names(
    client_class: type[BaseClient], *, stored: Collection[str]
) -> list[str | tuple[str, str]]:
    """Fieldset rows for the secrets: each input with its clear checkbox, if any."""
    return [
        (SECRET_PREFIX + name, CLEAR_PREFIX + name) if name in stored else SECRET_PREFIX + name
        for name in _secret_names(client_class)
    ]


def option_field_names(client_class: type[BaseClient]) -> list[str]:
    return [OPTION_PREFIX + name for name in _option_names(client_class)]


def _secret_names(client_class: type[BaseClient] | None) -> list[str]:
    if client_class is None:
        return []
    return [name for name, field in client_class.config_fields.items() if field.secret]


def _option_names(client_class: type[BaseClient] | None) -> list[str]:
    if client_class is None:
        return []
    return [name for name, field in client_class.config_fields.items() if not field.secret]


def _secret_help(field: ConfigField, *, is_stored: bool, unreadable: bool = False) -> str:
    if unreadable:
        return _join(
            field.help_text, gettext("The stored credentials cannot be read: enter it again.")
        )
    if is_stored:
        return _join(field.help_text, gettext("A value is stored — leave blank to keep it."))
    return _join(field.help_text, gettext("No value stored."), _fallback_sentence(field))


def _option_help(field: ConfigField) -> str:
    return _join(field.help_text, _fallback_sentence(field))


def _fallback_sentence(field: ConfigField) -> str:
    if not field.setting:
        return ""
    return gettext("Blank uses settings.%(setting)s.") % {"setting": field.setting}


def _join(*sentences: str) -> str:
    return " ".join(str(sentence) for sentence in sentences if sentence)


def _provider_help() -> str:
    links = format_html_join(
        ", ",
        '<a href="?provider={0}">{0}</a>',
        ((service.provider,) for service in declarations()),
    )
    if not links:
        return gettext("No service client is installed.")
    return format_html(
        "{} {}", gettext("Registered providers (choose one to enter its credentials):"), links
    )
