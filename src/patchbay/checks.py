"""System checks. Errors are ``patchbay.E0xx``, warnings ``patchbay.W0xx``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.urls import NoReverseMatch, reverse

from patchbay.conf import conf
from patchbay.core import registry
from patchbay.core.simulation import should_simulate
from patchbay.crypto import validate_keys

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

_NUMERIC_SETTINGS = {
    "PATCHBAY_TIMEOUT": "TIMEOUT",
    "PATCHBAY_BREAKER_THRESHOLD": "BREAKER_THRESHOLD",
    "PATCHBAY_BREAKER_COOLDOWN": "BREAKER_COOLDOWN",
    "PATCHBAY_HEALTH_DOWN_THRESHOLD": "HEALTH_DOWN_THRESHOLD",
    "PATCHBAY_LOG_RETENTION_DAYS": "LOG_RETENTION_DAYS",
    "PATCHBAY_WEBHOOK_RETENTION_DAYS": "WEBHOOK_RETENTION_DAYS",
    "PATCHBAY_WEBHOOK_MAX_BODY_SIZE": "WEBHOOK_MAX_BODY_SIZE",
}
_PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register("patchbay")
def check_encryption_keys(**kwargs: Any) -> list[CheckMessage]:
    raw = conf.get("PATCHBAY_ENCRYPTION_KEYS", None)
    if raw is not None and not isinstance(raw, (list, tuple, str)):
        return [
            Error(
                "PATCHBAY_ENCRYPTION_KEYS must be a list of Fernet keys, newest first.",
                id="patchbay.E001",
            )
        ]
    return [Error(problem, id="patchbay.E001") for problem in validate_keys(conf.ENCRYPTION_KEYS)]


@register("patchbay")
def check_settings_types(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    simulate = conf.get("PATCHBAY_SIMULATE", None)
    if simulate is not None and not isinstance(simulate, bool):
        messages.append(Error("PATCHBAY_SIMULATE must be None, True or False.", id="patchbay.E005"))
    if not isinstance(conf.get("PATCHBAY_RECORD_IN_BACKGROUND", True), bool):
        messages.append(
            Error("PATCHBAY_RECORD_IN_BACKGROUND must be True or False.", id="patchbay.E005")
        )
    recheck_after = _number("BREAKER_RECHECK_AFTER")
    if recheck_after is None or not recheck_after >= 0:
        messages.append(
            Error(
                "PATCHBAY_BREAKER_RECHECK_AFTER must be a number of seconds, 0 or more.",
                id="patchbay.E005",
            )
        )
    for setting, attribute in _NUMERIC_SETTINGS.items():
        value = _number(attribute)
        if value is None or not value > 0:
            messages.append(Error(f"{setting} must be a positive number.", id="patchbay.E005"))
    return messages


def _number(attribute: str) -> float | None:
    """``conf.<attribute>``, a numeric setting, or None when it is not a number."""
    try:
        return float(getattr(conf, attribute))
    except (TypeError, ValueError):
        return None


@register("patchbay")
def check_simulation(**kwargs: Any) -> list[CheckMessage]:
    if conf.SIMULATE is True and not settings.DEBUG:
        return [
            Warning(
                "PATCHBAY_SIMULATE is True while DEBUG is False: no payment, message or "
                "email is really sent.",
                hint="Remove PATCHBAY_SIMULATE in production settings.",
                id="patchbay.W001",
            )
        ]
    return []


@register("patchbay")
def check_public_url(**kwargs: Any) -> list[CheckMessage]:
    url = conf.PUBLIC_URL
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return [
            Error(
                f"PATCHBAY_PUBLIC_URL {url!r} is not an absolute http(s) URL.", id="patchbay.E004"
            )
        ]
    if parts.scheme != "https" and not settings.DEBUG:
        return [
            Warning(
                "PATCHBAY_PUBLIC_URL is not https while DEBUG is False: providers will call "
                "back over plain HTTP and most refuse to.",
                id="patchbay.W002",
            )
        ]
    return []


@register("patchbay")
def check_cache(**kwargs: Any) -> list[CheckMessage]:
    backend = settings.CACHES.get(conf.CACHE_ALIAS, {}).get("BACKEND", "")
    if not backend:
        return [
            Error(
                f"PATCHBAY_CACHE_ALIAS {conf.CACHE_ALIAS!r} is not in CACHES.", id="patchbay.E006"
            )
        ]
    if backend in _PROCESS_LOCAL_CACHES and not settings.DEBUG and not should_simulate():
        return [
            Warning(
                f"The {conf.CACHE_ALIAS!r} cache is process-local: circuit breakers and rate "
                "limits are not shared between worker processes.",
                hint="Use Redis: CACHES = patchbay.cache.cache_settings(REDIS_URL).",
                id="patchbay.W004",
            )
        ]
    return []


@register("patchbay")
def check_services(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    live = not should_simulate()
    for client_class in registry.client_classes():
        messages.extend(_check_service(client_class, live))
    return messages


def _from_settings(client_class: type[BaseClient], name: str) -> Any:
    setting = client_class.config_fields[name].setting
    return conf.get(setting) if setting else None


def _check_service(client_class: type[BaseClient], live: bool) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    fields = client_class.config_fields
    required = [name for name, field in fields.items() if field.required]
    configured = [name for name in required if _from_settings(client_class, name)]
    enabled = bool(client_class.enabled_setting and conf.get(client_class.enabled_setting) is True)
    label = client_class.label()

    if (enabled or configured) and not client_class.sdk_installed():
        messages.append(
            Warning(
                f"{label} is configured but its SDK ({client_class.sdk_module}) is not installed.",
                hint=f'pip install "django-patchbay[{client_class.extra}]"',
                id="patchbay.W003",
            )
        )
    if not live:
        return messages
    missing = [name for name in required if name not in configured]
    if enabled and missing:
        settings_names = ", ".join(fields[name].setting or name for name in missing)
        messages.append(
            Error(
                f"{client_class.enabled_setting} is True but {label} has no {settings_names}.",
                hint="Set them, or configure the service in the admin and silence patchbay.E002.",
                id="patchbay.E002",
            )
        )
    secret_field = client_class.webhook_secret_field
    if (
        secret_field
        and configured
        and not _from_settings(client_class, secret_field)
        and _webhook_mounted(client_class)
    ):
        messages.append(
            Error(
                f"{label}'s webhook endpoint is mounted but "
                f"{fields[secret_field].setting} is not set: every delivery would be refused.",
                hint="Copy the signing secret from the provider's dashboard.",
                id="patchbay.E003",
            )
        )
    return messages


def _webhook_mounted(client_class: type[BaseClient]) -> bool:
    for url_name in client_class.webhook_url_names:
        # Built-in services name their URLs in patchbay's namespace; yours name their own.
        qualified = url_name if ":" in url_name else f"patchbay:{url_name}"
        try:
            reverse(qualified)
        except NoReverseMatch:
            continue
        return True
    return False


@register("patchbay")
def check_phone_verification(**kwargs: Any) -> list[CheckMessage]:
    backend = conf.PHONE_VERIFICATION_BACKEND
    if backend not in {"local", "twilio_verify"}:
        return [
            Error(
                f"PATCHBAY_PHONE_VERIFICATION_BACKEND is {backend!r}: "
                "use 'local' or 'twilio_verify'.",
                id="patchbay.E007",
            )
        ]
    if backend == "twilio_verify" and not conf.TWILIO_VERIFY_SERVICE_SID and not should_simulate():
        return [
            Error(
                "PATCHBAY_PHONE_VERIFICATION_BACKEND is 'twilio_verify' but "
                "TWILIO_VERIFY_SERVICE_SID is not set.",
                hint="Create a Verify service in the Twilio Console and copy its SID (VA…).",
                id="patchbay.E008",
            )
        ]
    return []


@register("patchbay")
def check_loops_templates(**kwargs: Any) -> list[CheckMessage]:
    ids = conf.get("LOOPS_TRANSACTIONAL_IDS", None)
    if ids is not None and not isinstance(ids, dict):
        return [
            Error(
                "LOOPS_TRANSACTIONAL_IDS must be a dict of template ids by name.",
                id="patchbay.E009",
            )
        ]
    in_use = conf.get("LOOPS_API_KEY") or conf.get("LOOPS_ENABLED") is True
    if not in_use or should_simulate():
        return []
    # Imported only for a project that sends with Loops: the shortcuts module brings
    # the Loops simulation and webhook view with it, which a start need not load.
    from patchbay.loops.shortcuts import TEMPLATE_KEYS

    missing = [key for key in TEMPLATE_KEYS if not (ids or {}).get(key)]
    if missing:
        return [
            Error(
                f"LOOPS_TRANSACTIONAL_IDS has no template id for {', '.join(missing)}: "
                "those shortcuts would fail.",
                hint="Copy each template's id from Loops (Transactional → template → API), or "
                "silence patchbay.E009 if you never call those shortcuts.",
                id="patchbay.E009",
            )
        ]
    return []


@register("patchbay")
def check_simulated_bucket_root(**kwargs: Any) -> list[CheckMessage]:
    """The simulated S3 bucket must not write into the project's source tree."""
    # Imported here, so that this check stays one block at the end of the module.
    import os
    from pathlib import Path, PurePath

    def absolute(path: str | PurePath) -> Path:
        return Path(os.path.abspath(Path(path).expanduser()))

    configured = conf.get("PATCHBAY_SIMULATED_BUCKET_ROOT", None)
    if configured is not None and not isinstance(configured, (str, PurePath)):
        return [
            Error(
                "PATCHBAY_SIMULATED_BUCKET_ROOT must be a path (a str or a pathlib.Path).",
                id="patchbay.E030",
            )
        ]
    if not should_simulate():
        return []  # nothing is written there
    from patchbay.aws.local_store import root

    bucket_root = absolute(root())
    media_root = conf.get("MEDIA_ROOT", "")
    if media_root and bucket_root.is_relative_to(absolute(media_root)):
        return []  # where the project already keeps uploaded files, out of version control
    base_dir = getattr(settings, "BASE_DIR", None)
    tree = absolute(base_dir) if base_dir else Path.cwd()
    if tree == Path(tree.anchor) or not bucket_root.is_relative_to(tree):
        return []  # a file system root (a container's WORKDIR /) is no source tree
    return [
        Warning(
            f"The simulated S3 bucket ({bucket_root}) is inside the project's source tree "
            f"({tree}): simulated uploads would land in your repository.",
            hint="Set PATCHBAY_SIMULATED_BUCKET_ROOT to a directory outside it, or leave it "
            "unset: the default is MEDIA_ROOT/patchbay-s3 when MEDIA_ROOT is set, else a "
            "directory of this project under the system's temporary directory.",
            id="patchbay.W020",
        )
    ]
