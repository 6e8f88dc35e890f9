"""System checks. Errors are ``patchbay.E0xx``, warnings ``patchbay.W0xx``."""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from patchbay.conf import PREFIXES, SETTINGS, conf
from patchbay.core import registry
from patchbay.core.declaration import oauth2
from patchbay.core.simulation import in_test_environment, should_simulate
from patchbay.crypto import validate_keys

if TYPE_CHECKING:
    from collections.abc import Sequence

    from patchbay.core.auth import OAuth2Auth
    from patchbay.core.declaration import Declared

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
    """Simulation on with ``DEBUG`` off, unless acknowledged as a staging site (E031).

    Not in a test run: the test runner turns ``DEBUG`` off before the checks run.
    """
    if settings.DEBUG or not should_simulate() or in_test_environment():
        return []
    if conf.SIMULATE_WITHOUT_DEBUG is True:  # a staging site, acknowledged
        return []
    switch = "PATCHBAY_SIMULATE" if conf.SIMULATE is True else "TESTING"
    return [
        Error(
            f"Simulation is on ({switch} is True) while DEBUG is False: no payment, message "
            "or email is really sent. Simulated webhooks are signed with secrets published "
            "in patchbay's source, so anyone can forge them: with DEBUG off patchbay refuses "
            "them, and simulated deliveries need the webhook secrets configured.",
            hint=f"Remove {switch} from production settings. A staging site that simulates "
            "on purpose sets PATCHBAY_SIMULATE_WITHOUT_DEBUG = True and configures "
            "STRIPE_WEBHOOK_SECRET, TWILIO_AUTH_TOKEN and LOOPS_WEBHOOK_SECRET.",
            id="patchbay.E031",
        )
    ]


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
    for service in registry.declarations():
        messages.extend(_check_service(service, live))
    return messages


def _from_settings(service: Declared, name: str) -> Any:
    setting = service.config_fields[name].setting
    return conf.raw(setting) if setting else None


def _check_service(service: Declared, live: bool) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    fields = service.config_fields
    required = [name for name, field in fields.items() if field.required]
    configured = [name for name in required if _from_settings(service, name)]
    # Any true value: the spec computes it, e.g. `... == "true" or (KEY and SECRET)`.
    enabled = bool(service.enabled_setting and conf.raw(service.enabled_setting))
    label = service.label()

    # Only for a service set up: finding an SDK walks sys.path, a stat per entry.
    missing_sdk = service.missing_sdk() if enabled or configured else None
    if missing_sdk is not None:
        messages.append(
            Warning(
                f"{label} is configured but its SDK ({missing_sdk.module}) is not installed.",
                hint=f'pip install "django-patchbay[{missing_sdk.extra}]"',
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
                f"{service.enabled_setting} is on but {label} has no {settings_names}.",
                hint="Set them, or configure the service in the admin and silence patchbay.E002.",
                id="patchbay.E002",
            )
        )
    secret_field = service.webhook_secret_field
    if (
        secret_field
        and configured
        and not _from_settings(service, secret_field)
        and _webhook_mounted(service)
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


@register("patchbay")
def check_oauth2_clients(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for service in registry.declarations():
        declared = oauth2(service)
        if declared is not None:
            messages.extend(_check_oauth2_client(service, declared))
    return messages


#: How an OAuth2 client may authenticate to the token endpoint (authlib's names).
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def _check_oauth2_client(service: Declared, declared: OAuth2Auth) -> list[CheckMessage]:
    # Imported here: a project without an OAuth2 client never needs it at start.
    from patchbay.core import auth

    messages: list[CheckMessage] = []
    label = service.label()
    for name in (auth.OAUTH2_AUTHORIZE_URL, auth.OAUTH2_TOKEN_URL, auth.OAUTH2_REVOCATION_URL):
        field = service.config_fields[name]
        url = _from_settings(service, name) or field.default
        if url and not _is_secure_endpoint(url):
            messages.append(
                Error(
                    f"{label}'s {field.setting} {url!r} is not an https URL: tokens and the "
                    "client secret would cross the network in clear.",
                    hint="Use the provider's https endpoint (http is accepted for 127.0.0.1 "
                    "and localhost only).",
                    id="patchbay.E050",
                )
            )
    method = declared.token_endpoint_auth_method
    if method is not None and method not in TOKEN_ENDPOINT_AUTH_METHODS:
        messages.append(
            Error(
                f"{label} declares OAuth2Auth(token_endpoint_auth_method={method!r}), which "
                "is none of " + ", ".join(TOKEN_ENDPOINT_AUTH_METHODS) + ".",
                hint="Use the method the provider documents for its token endpoint.",
                id="patchbay.E051",
            )
        )
    secret_setting = service.config_fields[auth.OAUTH2_CLIENT_SECRET].setting
    if (
        not declared.pkce
        and not should_simulate()
        and _from_settings(service, auth.OAUTH2_CLIENT_ID)
        and not _from_settings(service, auth.OAUTH2_CLIENT_SECRET)
    ):
        messages.append(
            Warning(
                f"{label} is a public OAuth2 client (no {secret_setting}) with PKCE switched "
                "off: an intercepted authorization code could be exchanged by anyone.",
                hint="Leave OAuth2Auth(pkce=True) unless the provider refuses PKCE, or set "
                f"{secret_setting} (silence patchbay.W050 if it is stored in the admin).",
                id="patchbay.W050",
            )
        )
    return messages


def _is_secure_endpoint(url: Any) -> bool:
    # As authlib's own rule: https, or http to a loopback address (RFC 8252, section 7.3).
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


def _webhook_mounted(service: Declared) -> bool:
    from patchbay.core.urls import is_named

    # Built-in services name their URLs in patchbay's namespace; yours name their own.
    return any(
        is_named(url_name if ":" in url_name else f"patchbay:{url_name}")
        for url_name in service.webhook_url_names
    )


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
    from patchbay.loops.service import TEMPLATE_KEYS

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


# -- Mistakes people make: URLs, public URL, Redis, stored credentials ----------------------
#
# Ids patchbay.E020-E029 and patchbay.W010-W019. These checks read settings and the
# URLconf; check_redis_answers talks to Redis (briefly) and check_stored_credentials
# reads the database, only when Django asks for database checks.


@register("patchbay")
def check_urls_mounted(**kwargs: Any) -> list[CheckMessage]:
    from patchbay.core.urls import MOUNT_HINT, is_included

    # Not reverse(): a process's first reverse() imports every view, which a start avoids.
    if is_included("patchbay"):
        return []
    return [
        Error(
            "patchbay.urls is not mounted: webhooks cannot be received, and simulated "
            "Checkout, simulated S3, sign-in links and SMS status callbacks fail with "
            "'urls_not_mounted'.",
            hint=f"Add {MOUNT_HINT} to your ROOT_URLCONF's urlpatterns.",
            id="patchbay.E020",
        )
    ]


def _runs_live(provider: str) -> bool:
    """Whether ``provider`` is configured in settings and would call the real service.

    As :func:`_check_service` decides: a required setting is set, or the
    service's ``<SERVICE>_ENABLED`` is true. A service configured only in the
    admin is not seen: checks do not read the database.
    """
    service = registry.get_declaration(provider)
    if service is None or should_simulate():
        return False
    # The switch as resolve_config reads it: any false value but None turns live calls off.
    switch = conf.raw(service.enabled_setting) if service.enabled_setting else None
    if switch is not None and not switch:
        return False
    required = [name for name, field in service.config_fields.items() if field.required]
    return bool(switch) or any(_from_settings(service, name) for name in required)


def _is_absolute(url: Any) -> bool:
    parts = urlsplit(str(url or ""))
    return bool(parts.scheme and parts.netloc)


@register("patchbay")
def check_public_url_needed(**kwargs: Any) -> list[CheckMessage]:
    if conf.PUBLIC_URL:
        return []
    messages: list[CheckMessage] = []
    set_it = 'Set PATCHBAY_PUBLIC_URL = "https://example.com" (your site\'s public address)'
    if _runs_live("stripe"):
        # The shortcut's defaults when the settings are not set: relative, like these.
        relative = [
            setting
            for setting in ("STRIPE_CHECKOUT_SUCCESS_URL", "STRIPE_CHECKOUT_CANCEL_URL")
            if not _is_absolute(conf.get(setting))
        ]
        if relative:
            messages.append(
                Error(
                    f"Stripe is live but {' and '.join(relative)} are not absolute URLs and "
                    "PATCHBAY_PUBLIC_URL is not set: create_checkout_session() would send "
                    "relative URLs, which Stripe refuses.",
                    hint=f"{set_it}, or set {', '.join(relative)} to absolute URLs. If every "
                    "call passes absolute success_url and cancel_url, silence patchbay.E021.",
                    id="patchbay.E021",
                )
            )
    if _runs_live("twilio"):
        messages.append(
            Warning(
                "Twilio is live but PATCHBAY_PUBLIC_URL is not set: messages are sent "
                "without a status callback, so SMS rows keep the status of the send.",
                hint=f"{set_it}, or run patchbay_twilio_reconcile regularly.",
                id="patchbay.W010",
            )
        )
    ids = conf.LOOPS_TRANSACTIONAL_IDS
    if _runs_live("loops") and isinstance(ids, dict) and ids.get("login_code"):
        messages.append(
            Error(
                "Loops is live with a login_code template but PATCHBAY_PUBLIC_URL is not "
                "set: send_login_code_email() without a request cannot build an absolute "
                "sign-in link, and fails with 'no_public_url'.",
                hint=f"{set_it}. If every call passes request=, silence patchbay.E022.",
                id="patchbay.E022",
            )
        )
    for service in registry.declarations():
        if oauth2(service) is not None and _runs_live(service.provider):
            messages.append(
                Warning(
                    f"{service.label()} is a live OAuth2 client but PATCHBAY_PUBLIC_URL "
                    "is not set: its callback URL (the redirect URI the provider must have "
                    "registered, exactly) is taken from each request's host, so it changes "
                    "with the address the site is reached by.",
                    hint=f"{set_it}, and register its callback URL at the provider.",
                    id="patchbay.W055",
                )
            )
    return messages


_DJANGO_REDIS = "django_redis.cache.RedisCache"
_REDIS_BACKENDS = {_DJANGO_REDIS, "django.core.cache.backends.redis.RedisCache"}
#: Seconds check_redis_answers waits for Redis before reporting it silent.
REDIS_CHECK_TIMEOUT = 1.0


def _django_redis_importable() -> bool:
    from patchbay.core.sdk import sdk_available

    # find_spec only: nothing is imported. django-redis needs redis-py too.
    return sdk_available("django_redis") and sdk_available("redis")


@register("patchbay")
def check_cache_backend_importable(**kwargs: Any) -> list[CheckMessage]:
    named = [
        alias
        for alias, config in settings.CACHES.items()
        if str(config.get("BACKEND", "")).split(".")[0] == "django_redis"
    ]
    if not named or _django_redis_importable():
        return []
    return [
        Error(
            f"CACHES[{alias!r}] uses django-redis, which is not installed: every use of "
            "that cache raises InvalidCacheBackendError.",
            hint='pip install "django-patchbay[redis]"',
            id="patchbay.E023",
        )
        for alias in named
    ]


@register("patchbay")
def check_redis_answers(**kwargs: Any) -> list[CheckMessage]:
    alias = conf.CACHE_ALIAS
    config = settings.CACHES.get(alias, {})
    backend = config.get("BACKEND", "")
    if backend not in _REDIS_BACKENDS:
        return []
    if backend == _DJANGO_REDIS and not _django_redis_importable():
        return []  # patchbay.E023 says so; the cache cannot even be made
    location = _redact_locations(config.get("LOCATION", ""))
    problem = _ask_redis(alias)
    if problem is None:
        return []
    return [
        Warning(
            f"The {alias!r} cache (Redis at {location}) does not answer: "
            f"{problem.rstrip('.')}. Circuit breakers, rate limits and the other shared "
            "state patchbay keeps there fail.",
            hint="Start Redis, or fix the LOCATION of the cache PATCHBAY_CACHE_ALIAS names.",
            id="patchbay.W011",
        )
    ]


def _ask_redis(alias: str) -> str | None:
    """Why Redis did not answer a PING within ``REDIS_CHECK_TIMEOUT``; None if it did.

    The ping runs in a thread: the cache's own socket timeouts may be long (or
    unset), and a check must not hold up every start of the project.
    """
    import threading

    answers: list[str | None] = []

    def ping() -> None:
        try:
            _ping_redis(alias)
        except Exception as exc:  # whatever the client raises is the report
            answers.append(f"{type(exc).__name__}: {exc}")
        else:
            answers.append(None)

    thread = threading.Thread(target=ping, name="patchbay-redis-check", daemon=True)
    thread.start()
    thread.join(REDIS_CHECK_TIMEOUT)
    if not answers:
        return f"no answer within {REDIS_CHECK_TIMEOUT:g} s"
    return _strip_passwords(answers[0], settings.CACHES[alias].get("LOCATION", ""))


def _ping_redis(alias: str) -> None:
    if settings.CACHES[alias]["BACKEND"] == _DJANGO_REDIS:
        from django_redis import get_redis_connection

        get_redis_connection(alias).ping()
    else:  # Django's own backend: a read goes to the server and raises if it is down
        from django.core.cache import caches

        caches[alias].get("patchbay:checks:ping")


def _locations(location: Any) -> list[str]:
    if isinstance(location, (list, tuple)):
        return [str(item) for item in location]
    return [item.strip() for item in str(location or "").split(",") if item.strip()]


def _redact_locations(location: Any) -> str:
    redacted = []
    for url in _locations(location):
        parts = urlsplit(url)
        if parts.password:
            netloc = f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
            url = parts._replace(netloc=netloc).geturl()
        redacted.append(url)
    return ", ".join(redacted) or "(no LOCATION)"


def _strip_passwords(text: str | None, location: Any) -> str | None:
    for url in _locations(location):
        password = urlsplit(url).password
        if text and password:
            text = text.replace(password, "***")
    return text


# Only Django's Tags.database: a plain "check" leaves database checks out, "check --database
# <alias>" and migrate run them. Not tagged "patchbay" too, because Django 6.1 runs the
# checks a --tag selects against every database, and "check --tag patchbay" must not
# touch one.
@register(Tags.database)
def check_stored_credentials(
    *, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not databases:
        return []
    unreadable: list[str] = []
    for alias in databases:
        unreadable.extend(_undecryptable_services(alias))
    if not unreadable:
        return []
    names = ", ".join(repr(provider) for provider in sorted(set(unreadable)))
    return [
        Error(
            f"The stored credentials of the services {names} (ExternalService) cannot be "
            "decrypted with any configured key: every call of their clients fails with "
            'error_code "decryption_failed".',
            hint="Put the SECRET_KEY they were encrypted with back into SECRET_KEY_FALLBACKS "
            "(or their key into PATCHBAY_ENCRYPTION_KEYS, after the new one) and run "
            "manage.py patchbay_rotate_keys; or clear them with "
            f"ExternalService.objects.filter(provider__in=[{names}]).update(credentials={{}}) "
            "and enter the credentials again in the admin.",
            id="patchbay.E024",
        )
    ]


def _undecryptable_services(alias: str) -> list[str]:
    """Providers whose credentials in database ``alias`` no configured key decrypts."""
    from django.db import DatabaseError, connections, router
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from patchbay import crypto
    from patchbay.exceptions import ConfigurationError, DecryptionError
    from patchbay.models import ExternalService

    if not router.allow_migrate_model(alias, ExternalService):
        return []
    if ExternalService._meta.db_table not in connections[alias].introspection.table_names():
        return []  # migrate runs the checks before it creates the table
    # Cast reads the token itself: the field would decrypt it, and raise.
    rows = (
        ExternalService.objects.using(alias)
        .annotate(token=Cast("credentials", output_field=TextField()))
        .values_list("provider", "token")
    )
    unreadable = []
    try:
        for provider, token in rows:
            if not token:
                continue
            try:
                crypto.decrypt(token)
            except DecryptionError:
                unreadable.append(provider)
    except ConfigurationError:
        return []  # invalid keys: patchbay.E001 says so
    except DatabaseError:
        return []  # a table half-way through migrations: nothing to say yet
    return unreadable


@register("patchbay")
def check_simulated_bucket_root(**kwargs: Any) -> list[CheckMessage]:
    """The simulated S3 bucket must not write into the project's source tree."""
    # Imported here, so that this check stays one block at the end of the module.
    import os
    from pathlib import Path, PurePath

    def absolute(path: str | PurePath) -> Path:
        return Path(os.path.abspath(Path(path).expanduser()))

    if SETTINGS["PATCHBAY_SIMULATED_BUCKET_ROOT"].problem():
        return []  # patchbay.E030, from check_settings_types
    if not should_simulate():
        return []  # nothing is written there
    from patchbay.aws.simulated.store import root

    bucket_root = absolute(root())
    media_root = settings.MEDIA_ROOT
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


# -- Client addresses: the per-IP send limits (ids patchbay.E036-E039, W030-W034) -----------


@register("patchbay")
def check_client_addresses(**kwargs: Any) -> list[CheckMessage]:
    """The client address resolver's settings agree (their types: E036, E037)."""
    import ipaddress

    header = conf.CLIENT_IP_HEADER
    trusted = conf.raw("PATCHBAY_TRUSTED_PROXIES")
    messages: list[CheckMessage] = []
    if trusted is not None and not header:
        messages.append(
            Warning(
                "PATCHBAY_TRUSTED_PROXIES is set but PATCHBAY_CLIENT_IP_HEADER is not: the "
                "client address is REMOTE_ADDR, and the proxies setting does nothing.",
                hint='Set PATCHBAY_CLIENT_IP_HEADER (e.g. "HTTP_X_FORWARDED_FOR") to the '
                "header your proxies set, or remove PATCHBAY_TRUSTED_PROXIES.",
                id="patchbay.W030",
            )
        )
    if isinstance(trusted, (list, tuple)) and not SETTINGS["PATCHBAY_TRUSTED_PROXIES"].problem():
        everything = [
            str(item)
            for item in trusted
            if ipaddress.ip_network(str(item), strict=False).prefixlen == 0
        ]
        if everything:
            messages.append(
                Warning(
                    f"PATCHBAY_TRUSTED_PROXIES trusts every address ({', '.join(everything)}): "
                    "no hop is ever taken for the client, so every request shares the one "
                    "limit of the unknown client.",
                    hint="List your proxies' own networks only.",
                    id="patchbay.W031",
                )
            )
    behind_proxy = [
        name
        for name in ("SECURE_PROXY_SSL_HEADER", "USE_X_FORWARDED_HOST")
        if getattr(settings, name, None)
    ]
    if behind_proxy and not header:
        messages.append(
            Warning(
                f"{' and '.join(behind_proxy)} say the site runs behind a proxy, but "
                "PATCHBAY_CLIENT_IP_HEADER is not set: REMOTE_ADDR is then the proxy's "
                "address (or empty over a unix socket), and every client shares one per-IP "
                "send limit.",
                hint='Set PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR" (and '
                "PATCHBAY_TRUSTED_PROXIES if more than one proxy appends to it), or silence "
                "patchbay.W032 if a middleware of yours sets REMOTE_ADDR to the client's.",
                id="patchbay.W032",
            )
        )
    return messages


@register("patchbay")
def check_metrics(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if conf.METRICS:
        messages.extend(_check_metrics_on())
    if conf.METRICS_TOKEN and not conf.METRICS:
        messages.append(
            Warning(
                "PATCHBAY_METRICS_TOKEN is set but PATCHBAY_METRICS is off: the metrics view "
                "answers 404 to every scrape.",
                hint="Set PATCHBAY_METRICS = True, or remove the token.",
                id="patchbay.W065",
            )
        )
    return messages


def _check_metrics_on() -> list[CheckMessage]:
    # Only a project counting metrics imports the module (and its error codes).
    from patchbay import metrics

    messages: list[CheckMessage] = []
    if not metrics.installed():
        messages.append(
            Error(
                "PATCHBAY_METRICS is on but prometheus-client is not installed: nothing is "
                "counted and the metrics view answers 404.",
                hint="pip install django-patchbay[prometheus]",
                id="patchbay.E065",
            )
        )
    directory = os.environ.get(metrics.MULTIPROC_DIR)
    writable = bool(directory and os.path.isdir(directory) and os.access(directory, os.W_OK))
    if directory and not writable:
        messages.append(
            Error(
                f"{metrics.MULTIPROC_DIR} ({directory}) is not a directory this process can "
                "write: prometheus-client's multiprocess mode keeps each process's metrics "
                "there, so none would be counted.",
                hint="Create it (empty) before the server starts, writable by its workers.",
                id="patchbay.E066",
            )
        )
    return messages


# -- Outbound rate limits (ids patchbay.E060-E064, W060-W064) -----------------------------


@register("patchbay")
def check_rate_limits(**kwargs: Any) -> list[CheckMessage]:
    """PATCHBAY_RATE_LIMITS names registered providers (its type and rates: E060)."""
    limits = conf.raw("PATCHBAY_RATE_LIMITS")
    if limits is None or SETTINGS["PATCHBAY_RATE_LIMITS"].problem():
        return []
    providers = [service.provider for service in registry.declarations()]
    unknown = [name for name in limits if name not in providers]
    if not unknown:
        return []
    close = {name: difflib.get_close_matches(name, providers, n=1, cutoff=0.6) for name in unknown}
    suggestions = [f"{name!r} → {found[0]!r}" for name, found in close.items() if found]
    return [
        Warning(
            f"PATCHBAY_RATE_LIMITS limits {', '.join(map(repr, unknown))}, which no "
            "registered service is: those limits apply to nothing.",
            hint=(f"Did you mean {', '.join(suggestions)}? " if suggestions else "")
            + f"The services are {', '.join(map(repr, providers))}.",
            id="patchbay.W060",
        )
    ]


# -- Tenants (ids patchbay.E070-E079, W070-W079) ------------------------------------------

_TENANT_MIDDLEWARE = "patchbay.tenancy.TenantMiddleware"
_AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register("patchbay")
def check_tenancy(**kwargs: Any) -> list[CheckMessage]:
    """The tenant settings name what exists (their types: E070, E071)."""
    from django.apps import apps
    from django.utils.module_loading import import_string

    messages: list[CheckMessage] = []
    model = conf.raw("PATCHBAY_TENANT_MODEL")
    if model is not None and not SETTINGS["PATCHBAY_TENANT_MODEL"].problem():
        try:
            apps.get_model(model)
        except LookupError:
            messages.append(
                Error(
                    f"PATCHBAY_TENANT_MODEL names {model!r}, which is not an installed model.",
                    hint="Add its app to INSTALLED_APPS, or correct the name.",
                    id="patchbay.E072",
                )
            )
    for name in ("PATCHBAY_TENANT_RESOLVER", "PATCHBAY_ADMIN_TENANT"):
        value = conf.raw(name)
        if not isinstance(value, str) or SETTINGS[name].problem():
            continue
        try:
            hook = import_string(value)
        except ImportError as exc:
            problem = f"cannot be imported ({exc})"
        else:
            problem = "" if callable(hook) else "is not callable"
        if problem:
            messages.append(
                Error(
                    f"{name} is {value!r}, which {problem}.",
                    hint="Name a function taking the request: 'myproject.tenants.from_request'.",
                    id="patchbay.E073",
                )
            )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if conf.raw("PATCHBAY_TENANT_RESOLVER") is not None and _TENANT_MIDDLEWARE not in middleware:
        messages.append(
            Warning(
                "PATCHBAY_TENANT_RESOLVER is set but patchbay.tenancy.TenantMiddleware is not "
                "in MIDDLEWARE: nothing runs the resolver, and no request has a current tenant.",
                hint=f"Add {_TENANT_MIDDLEWARE!r} to MIDDLEWARE, after AuthenticationMiddleware.",
                id="patchbay.W070",
            )
        )
    elif (
        _TENANT_MIDDLEWARE in middleware
        and _AUTHENTICATION_MIDDLEWARE in middleware
        and middleware.index(_TENANT_MIDDLEWARE) < middleware.index(_AUTHENTICATION_MIDDLEWARE)
    ):
        messages.append(
            Warning(
                "patchbay.tenancy.TenantMiddleware comes before AuthenticationMiddleware: a "
                "resolver reading request.user finds none.",
                hint="Move it after AuthenticationMiddleware in MIDDLEWARE.",
                id="patchbay.W071",
            )
        )
    if model is None:
        unused = [
            name
            for name in (
                "PATCHBAY_TENANT_RESOLVER",
                "PATCHBAY_TENANT_REQUIRED",
                "PATCHBAY_ADMIN_TENANT",
            )
            if conf.raw(name) is not None
        ]
        if unused:
            messages.append(
                Warning(
                    f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} set, but "
                    "PATCHBAY_TENANT_MODEL is not: without a tenant model "
                    f"{'it has' if len(unused) == 1 else 'they have'} no effect.",
                    hint='Set PATCHBAY_TENANT_MODEL (e.g. "accounts.Organization"), or remove '
                    "them.",
                    id="patchbay.W072",
                )
            )
    return messages
