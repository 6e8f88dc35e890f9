"""System checks. Errors are ``patchbay.E0xx``, warnings ``patchbay.W0xx``."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.urls import NoReverseMatch, reverse

from patchbay.conf import PREFIXES, SETTINGS, conf
from patchbay.core import registry
from patchbay.core.simulation import should_simulate
from patchbay.crypto import validate_keys

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient

# Settings under patchbay's provider prefixes that other libraries read: django-storages
# and boto (AWS_*), dj-stripe and common Stripe setups (STRIPE_*), Twilio's own docs.
# Never reported as unknown, however close they are to one of patchbay's.
OTHER_LIBRARIES_SETTINGS = frozenset(
    {
        "AWS_AUTO_CREATE_BUCKET",
        "AWS_BUCKET_ACL",
        "AWS_CLOUDFRONT_KEY",
        "AWS_CLOUDFRONT_KEY_ID",
        "AWS_DEFAULT_ACL",
        "AWS_DEFAULT_REGION",
        "AWS_HEADERS",
        "AWS_IS_GZIPPED",
        "AWS_LOCATION",
        "AWS_PRELOAD_METADATA",
        "AWS_PROFILE",
        "AWS_QUERYSTRING_AUTH",
        "AWS_QUERYSTRING_EXPIRE",
        "AWS_REDUCED_REDUNDANCY",
        "AWS_S3_ACCESS_KEY_ID",
        "AWS_S3_ADDRESSING_STYLE",
        "AWS_S3_CALLING_FORMAT",
        "AWS_S3_CLIENT_CONFIG",
        "AWS_S3_ENCRYPTION",
        "AWS_S3_FILE_BUFFER_SIZE",
        "AWS_S3_FILE_NAME_CHARSET",
        "AWS_S3_FILE_OVERWRITE",
        "AWS_S3_HOST",
        "AWS_S3_KEY_PREFIX",
        "AWS_S3_MAX_MEMORY_SIZE",
        "AWS_S3_OBJECT_PARAMETERS",
        "AWS_S3_PROXIES",
        "AWS_S3_REGION_NAME",
        "AWS_S3_SECRET_ACCESS_KEY",
        "AWS_S3_SECURE_URLS",
        "AWS_S3_SECURITY_TOKEN",
        "AWS_S3_SESSION_PROFILE",
        "AWS_S3_SESSION_TOKEN",
        "AWS_S3_SIGNATURE_VERSION",
        "AWS_S3_TRANSFER_CONFIG",
        "AWS_S3_URL_PROTOCOL",
        "AWS_S3_USE_SSL",
        "AWS_S3_USE_THREADS",
        "AWS_S3_VERIFY",
        "AWS_SECURITY_TOKEN",
        "AWS_SESSION_TOKEN",
        "STRIPE_API_HOST",
        "STRIPE_LIVE_MODE",
        "STRIPE_LIVE_PUBLIC_KEY",
        "STRIPE_LIVE_SECRET_KEY",
        "STRIPE_PUBLIC_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_TEST_PUBLIC_KEY",
        "STRIPE_TEST_SECRET_KEY",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "TWILIO_DEFAULT_CALLERID",
    }
)
# How alike an undeclared provider-prefixed name must be to a declared one to be
# reported as its misspelling (difflib's ratio): a missing, extra or swapped letter.
_MISSPELLING_CUTOFF = 0.85
_PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register("patchbay")
def check_encryption_keys(**kwargs: Any) -> list[CheckMessage]:
    # A value that is no list at all is check_settings_types' (also patchbay.E001).
    if SETTINGS["PATCHBAY_ENCRYPTION_KEYS"].problem():
        return []
    return [
        Error(problem, id="patchbay.E001") for problem in validate_keys(conf.ENCRYPTION_KEYS or [])
    ]


@register("patchbay")
def check_settings_types(**kwargs: Any) -> list[CheckMessage]:
    """Every declared setting against its registry rule, one check id per kind of rule."""
    messages: list[CheckMessage] = []
    for setting in SETTINGS.values():
        problem = setting.problem()
        if problem and setting.rule is not None:
            messages.append(
                Error(problem, hint=setting.rule.hint or None, id=setting.rule.check_id)
            )
    return messages


@register("patchbay")
def check_unknown_settings(**kwargs: Any) -> list[CheckMessage]:
    """Settings with patchbay's prefixes that it does not read: most are misspellings."""
    messages: list[CheckMessage] = []
    for name in dir(settings):
        if not name.isupper() or name in SETTINGS or not name.startswith(PREFIXES):
            continue
        prefix = name.split("_", 1)[0] + "_"
        candidates = [declared for declared in SETTINGS if declared.startswith(prefix)]
        if prefix == "PATCHBAY_":
            # The prefix is patchbay's alone: whatever is under it is meant for patchbay.
            match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
            suggestion = f" Did you mean {match[0]}?" if match else ""
            messages.append(
                Warning(
                    f"{name} is not a setting patchbay reads.{suggestion}",
                    hint="Correct or remove it; docs/configuration.rst lists every setting.",
                    id="patchbay.W005",
                )
            )
        elif name not in OTHER_LIBRARIES_SETTINGS:
            # Other libraries share these prefixes: only a near miss of a declared name counts.
            match = difflib.get_close_matches(name, candidates, n=1, cutoff=_MISSPELLING_CUTOFF)
            if match:
                messages.append(
                    Warning(
                        f"{name} is not a setting patchbay reads. Did you mean {match[0]}?",
                        hint=f"Rename it to {match[0]}, or silence patchbay.W006 if another "
                        "library reads it.",
                        id="patchbay.W006",
                    )
                )
    return messages


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
    return conf.raw(setting) if setting else None


def _check_service(client_class: type[BaseClient], live: bool) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    fields = client_class.config_fields
    required = [name for name, field in fields.items() if field.required]
    configured = [name for name in required if _from_settings(client_class, name)]
    # Any true value: the spec computes it, e.g. `... == "true" or (KEY and SECRET)`.
    enabled = bool(client_class.enabled_setting and conf.raw(client_class.enabled_setting))
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
                f"{client_class.enabled_setting} is on but {label} has no {settings_names}.",
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
    # An unknown backend is check_settings_types' (patchbay.E007).
    backend = conf.PHONE_VERIFICATION_BACKEND
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
    # A value that is no dict is check_settings_types' (patchbay.E009).
    if SETTINGS["LOOPS_TRANSACTIONAL_IDS"].problem():
        return []
    ids = conf.LOOPS_TRANSACTIONAL_IDS
    in_use = conf.LOOPS_API_KEY or conf.LOOPS_ENABLED is True
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
                "silence patchbay.E016 if you never call those shortcuts.",
                id="patchbay.E016",
            )
        ]
    return []
