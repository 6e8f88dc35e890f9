"""Where a client's configuration comes from.

Precedence, per value: constructor argument > the tenant's ExternalService row
(when enabled; see :mod:`patchbay.tenancy`) > the provider's site-wide row
(when enabled) > Django setting > default. A row disabled in the admin
switches the service off (for its tenant) whatever the other sources say.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from patchbay.conf import SETTINGS as DECLARED_SETTINGS
from patchbay.conf import conf
from patchbay.redaction import MASK

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

T = TypeVar("T")

ARGUMENT = "argument"
#: The tenant's own ExternalService row.
TENANT = "tenant"
#: The site-wide ExternalService row.
DATABASE = "database"
SETTINGS = "settings"
DEFAULT = "default"


class ConfigField(NamedTuple):
    """One configuration value of a service.

    ``setting`` names the Django setting it falls back to; ``secret`` values
    are stored encrypted, masked everywhere and scrubbed from logs. A setting
    declared in :mod:`patchbay.conf` (patchbay's own services) has its
    ``default`` and ``help_text`` there; a setting of your own service gets
    them here. ``label`` is how the admin names it; blank, it is made from the
    field's name by :func:`field_label`.
    """

    setting: str | None = None
    secret: bool = False
    required: bool = True
    default: Any = None
    help_text: str = ""
    label: str = ""

    def declared(self) -> ConfigField:
        """This field with its setting's default and doc from the registry, if declared."""
        declared = DECLARED_SETTINGS.get(self.setting) if self.setting else None
        if declared is None:
            return self
        if self.default is not None or self.help_text:
            raise TypeError(
                f"{self.setting} is declared in patchbay.conf: its ConfigField takes the "
                "default and help text from there."
            )
        return self._replace(default=declared.default, help_text=declared.doc)


#: How the words of a field's name are written in a label: acronyms and brand names.
LABEL_WORDS = {
    "api": "API",
    "aws": "AWS",
    "id": "ID",
    "iam": "IAM",
    "oauth2": "OAuth2",
    "r2": "R2",
    "s3": "S3",
    "sid": "SID",
    "sms": "SMS",
    "uri": "URI",
    "url": "URL",
    "urls": "URLs",
    "whatsapp": "WhatsApp",
}


def field_label(name: str, field: ConfigField | None = None) -> str:
    """The admin's label of configuration value ``name``: ``field.label``, else made from the name.

    Made from the name, acronyms are written as people write them
    (``aws_s3_bucket_name``: "AWS S3 bucket name", ``api_key``: "API key"),
    where Django's ``capfirst`` would give "Aws s3 bucket name".
    """
    if field is not None and field.label:
        return field.label
    words = [LABEL_WORDS.get(word.lower(), word.lower()) for word in name.split("_") if word]
    if not words:
        return name
    # The first word capitalised, unless it is an acronym already written as one.
    first = words[0]
    words[0] = first if first in LABEL_WORDS.values() else first[:1].upper() + first[1:]
    return " ".join(words)


class ServiceRow(NamedTuple):
    """What a client needs from an ExternalService row, cached per process."""

    enabled: bool
    credentials: Mapping[str, Any]
    options: Mapping[str, Any]
    #: No configured key decrypts the stored credentials (then ``credentials`` is empty).
    credentials_unreadable: bool = False


class ServiceConfig:
    """Resolved configuration of one client, and where each value came from."""

    def __init__(
        self,
        fields: Mapping[str, ConfigField],
        values: Mapping[str, Any],
        sources: Mapping[str, str],
        *,
        disabled_reason: str = "",
        disabled_in_admin: bool = False,
        credentials_unreadable: bool = False,
    ) -> None:
        self.fields = fields
        self.values = dict(values)
        self.sources = dict(sources)
        self.disabled_reason = disabled_reason
        self.disabled_in_admin = disabled_in_admin
        #: The enabled ExternalService row holds credentials no configured key decrypts
        #: (``patchbay.E024``): its secrets are left out of ``values``, and every call
        #: fails with ``error_code="decryption_failed"``.
        self.credentials_unreadable = credentials_unreadable
        # What clients make of this configuration (an SDK client), made once: see derived().
        self._derived: dict[str, Any] = {}

    def derived(self, name: str, make: Callable[[], T]) -> T:
        """``make()``, once per configuration: what every client of it may share.

        Configurations are shared by the clients that resolve to them (see
        :func:`shared_config`), and dropped whenever a setting or a row changes,
        so anything made of one (and of settings) is rebuilt with it.
        """
        try:
            made: T = self._derived[name]
        except KeyError:
            made = self._derived[name] = make()
        return made

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name``, or ``default`` when it is unset or empty."""
        value = self.values.get(name)
        return default if value in (None, "") else value

    def missing(self) -> list[str]:
        """Required values that no source provides."""
        return list(self.derived("missing", self._missing))

    def _missing(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, field in self.fields.items()
            if field.required and self.values.get(name) in (None, "")
        )

    def secret_values(self) -> list[str]:
        """Every secret value, with lists (e.g. rotating webhook secrets) flattened."""
        secrets: list[str] = []
        for name, field in self.fields.items():
            value = self.values.get(name)
            if field.secret and value:
                secrets.extend(
                    map(str, value) if isinstance(value, (list, tuple)) else [str(value)]
                )
        return secrets

    def describe(self) -> dict[str, str]:
        """``name -> source`` with secrets' values never shown."""
        return dict(self.sources)

    def __repr__(self) -> str:
        shown = {
            name: (MASK if self.fields[name].secret and value else value)
            for name, value in self.values.items()
        }
        return f"<ServiceConfig {shown}>"


_row_cache: dict[tuple[str, str], tuple[float, ServiceRow | None]] = {}
_row_cache_lock = threading.Lock()


def load_service_row(provider: str, tenant_key: str = "") -> ServiceRow | None:
    """The provider's ExternalService row of ``tenant_key`` ("": the site's), cached a while.

    Reused for ``PATCHBAY_SERVICE_CONFIG_TTL`` s, per (provider, tenant).
    """
    ttl = conf.SERVICE_CONFIG_TTL
    now = time.monotonic()
    cache_key = (provider, tenant_key)
    if ttl > 0:
        cached = _row_cache.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
    from patchbay.exceptions import DecryptionError
    from patchbay.models import ExternalService

    rows = ExternalService.objects.filter(provider=provider, tenant_key=tenant_key)
    try:
        found = rows.only("enabled", "credentials", "options").first()
    except DecryptionError:
        # Reported by patchbay.E024; the row's other columns still read.
        found = rows.only("enabled", "options").first()
        row = (
            ServiceRow(found.enabled, {}, found.options, credentials_unreadable=True)
            if found is not None
            else None
        )
    else:
        row = (
            ServiceRow(found.enabled, found.credentials, found.options)
            if found is not None
            else None
        )
    if ttl > 0:
        with _row_cache_lock:
            _row_cache[cache_key] = (now + ttl, row)
    return row


def forget_service_rows() -> None:
    """Drop cached rows and the configurations made of them: the next client resolves anew."""
    with _row_cache_lock:
        _row_cache.clear()
        _config_cache.clear()


@receiver(post_save, sender="patchbay.ExternalService")
@receiver(post_delete, sender="patchbay.ExternalService")
def _service_changed(**kwargs: Any) -> None:
    forget_service_rows()


@receiver(setting_changed)
def _setting_changed(**kwargs: Any) -> None:
    # override_settings (and pytest-django's settings fixture): a shared configuration
    # may have read the setting.
    forget_service_rows()


# Resolved configurations, shared by the clients that resolve to them: (client class,
# arguments, tenant) -> (expiry, configuration). Bounded: arguments may vary without end.
_config_cache: dict[tuple[Any, ...], tuple[float, ServiceConfig]] = {}
_CONFIG_CACHE_SIZE = 256


def shared_config(
    client_class: type[BaseClient], overrides: Mapping[str, Any], tenant_key: str = ""
) -> ServiceConfig:
    """:func:`resolve_config`'s configuration, shared by the clients that resolve to it.

    A view makes a client per request, and resolving (every setting, the cached
    rows) cost a presigned URL a fifth of its signing. Kept as long as the rows
    it was made of (``PATCHBAY_SERVICE_CONFIG_TTL`` s) and dropped when a setting
    changes through Django or a row is saved; with a TTL of 0 every client
    resolves its own. The configuration is shared: nothing may change it.
    """
    ttl = conf.SERVICE_CONFIG_TTL
    if ttl <= 0:
        return resolve_config(client_class, overrides, tenant_key)
    key = (client_class, tuple(sorted(overrides.items())), tenant_key)
    try:
        cached = _config_cache.get(key)
    except TypeError:  # an argument that is no dict key (a list of secrets): not shared
        return resolve_config(client_class, overrides, tenant_key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    config = resolve_config(client_class, overrides, tenant_key)
    with _row_cache_lock:
        # No longer than the rows it was made of: one read before now expires sooner.
        rows = [_row_cache.get((client_class.provider, tenant)) for tenant in {"", tenant_key}]
        expiry = min([now + ttl, *(row[0] for row in rows if row is not None)])
        if len(_config_cache) >= _CONFIG_CACHE_SIZE:
            _config_cache.clear()
        _config_cache[key] = (expiry, config)
    return config


def check_overrides(client_class: type[BaseClient], overrides: Mapping[str, Any]) -> None:
    """Raise :exc:`TypeError` for an argument that names no configuration value."""
    unknown = set(overrides) - set(client_class.config_fields)
    if unknown:
        raise TypeError(f"{client_class.__name__} got unexpected arguments: {sorted(unknown)}")


def _stores_credentials(row: ServiceRow | None) -> bool:
    # Unreadable credentials count: falling back to the site's would mix two accounts.
    return row is not None and (
        row.credentials_unreadable
        or any(value not in (None, "") for value in row.credentials.values())
    )


def _stored(row: ServiceRow | None, name: str, secret: bool) -> Any:
    return (row.credentials if secret else row.options).get(name) if row is not None else None


def resolve_config(
    client_class: type[BaseClient], overrides: Mapping[str, Any], tenant_key: str = ""
) -> ServiceConfig:
    """Resolve every configuration value of ``client_class`` for tenant ``tenant_key``.

    A tenant's enabled row comes before the site's; when it stores any
    credential, every secret comes from it (or an argument), never from the
    site: one tenant's key must not be completed with another's secret.
    """
    fields = client_class.config_fields
    check_overrides(client_class, overrides)
    site = load_service_row(client_class.provider)
    tenant = load_service_row(client_class.provider, tenant_key) if tenant_key else None
    tenant_enabled = tenant is not None and tenant.enabled
    own_secrets = tenant_enabled and _stores_credentials(tenant)
    site_enabled = site is not None and site.enabled
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, field in fields.items():
        # The site's secrets are no source for a tenant that stores its own.
        shared = not (field.secret and own_secrets)
        setting_value = conf.raw(field.setting) if field.setting and shared else None
        from_tenant = _stored(tenant, name, field.secret) if tenant_enabled else None
        from_site = _stored(site, name, field.secret) if site_enabled and shared else None
        for source, value in (
            (ARGUMENT, overrides.get(name)),
            (TENANT, from_tenant),
            (DATABASE, from_site),
            (SETTINGS, setting_value),
            (DEFAULT, field.default),
        ):
            if value not in (None, ""):
                values[name], sources[name] = value, source
                break
        else:
            values[name], sources[name] = None, DEFAULT

    # The tenant's own row, when it has one, decides whether the service is on for it.
    row = tenant if tenant is not None else site
    disabled_reason = ""
    disabled_in_admin = row is not None and not row.enabled
    if disabled_in_admin:
        disabled_reason = f"{client_class.label()} is disabled in the admin (ExternalService)."
    elif client_class.enabled_setting:
        # Unset (None) means on when configured; any other false value, such as the
        # spec's `STRIPE_ENABLED = ... or (STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET)`
        # giving "", switches live calls off.
        switch = conf.raw(client_class.enabled_setting)
        if switch is not None and not switch:
            disabled_reason = (
                f"{client_class.label()} is disabled "
                f"({client_class.enabled_setting} is {switch!r})."
            )
    return ServiceConfig(
        fields,
        values,
        sources,
        disabled_reason=disabled_reason,
        disabled_in_admin=disabled_in_admin,
        # A disabled row is no source: what it holds does not matter.
        credentials_unreadable=(
            tenant is not None and tenant.credentials_unreadable
            if own_secrets
            else site is not None and site_enabled and site.credentials_unreadable
        ),
    )
