"""Every setting patchbay reads, declared once, and ``conf``, which reads them.

Each :class:`Setting` below names one Django setting with its type, default,
one-line doc and validation. ``conf.<NAME>`` reads it from
``django.conf.settings`` at access time (so ``override_settings``, the
``settings`` fixture of pytest-django and settings assigned directly all
work), with ``None`` counting as unset. patchbay's own settings are prefixed
``PATCHBAY_`` and read as ``conf.<name without the prefix>``; the provider
settings the spec names (``STRIPE_API_KEY``, ``TWILIO_AUTH_TOKEN``...) keep
their names. The system checks validate every declared setting with its
:class:`Rule` and report settings with patchbay's prefixes that are not
declared here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any, Generic, NamedTuple, TypeVar, overload

from django.conf import settings as django_settings
from django.utils.functional import empty

from patchbay.aws.media_types import SAFE_UPLOAD_TYPES

T = TypeVar("T")

#: Prefixes of the settings patchbay declares; unknown settings under them are reported.
PREFIXES = ("PATCHBAY_", "STRIPE_", "TWILIO_", "LOOPS_", "AWS_")


class Rule(NamedTuple):
    """What a setting's value must be, and the system check reporting a value that is not."""

    check_id: str
    requirement: str
    accepts: Callable[[Any], bool]
    hint: str = ""


class Setting(Generic[T]):
    """One setting: its name, type, default, doc and validation.

    ``convert`` turns a set value into the type patchbay works with (a number
    read from the environment as a string, say); ``rule`` is what the system
    checks hold the set value to. ``secret`` values are never shown in messages.
    """

    def __init__(
        self,
        name: str,
        default: T,
        doc: str,
        *,
        kind: str,
        convert: Callable[[Any], T] | None = None,
        rule: Rule | None = None,
        secret: bool = False,
    ) -> None:
        self.name = name
        self.default = default
        self.doc = doc
        self.kind = kind
        self.convert = convert
        self.rule = rule
        self.secret = secret
        if name in SETTINGS:
            raise ValueError(f"{name} is declared twice.")
        SETTINGS[name] = self

    def __repr__(self) -> str:
        return f"<Setting {self.name}>"

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        # read()'s body, one call less: every conf.<NAME> comes here (a signature, five times).
        value = setting_value(self.name)
        if value is None:
            return self.default
        return self.convert(value) if self.convert is not None else value

    def raw(self) -> Any:
        """The value in Django's settings, None when unset."""
        return setting_value(self.name)

    def read(self) -> T:
        """The value patchbay uses: the set value, converted, or the default."""
        value = setting_value(self.name)
        if value is None:
            return self.default
        return self.convert(value) if self.convert is not None else value

    def problem(self) -> str | None:
        """Why the set value breaks the rule, as a sentence; None when it does not."""
        value = self.raw()
        if value is None or self.rule is None or self.rule.accepts(value):
            return None
        shown = "" if self.secret else f" (it is {value!r})"
        return f"{self.name} {self.rule.requirement}{shown}."


#: Every declared setting by name, in declaration order.
SETTINGS: dict[str, Setting[Any]] = {}

# The settings Django's lazy proxy computes (a script prefix added, an empty key refused).
_COMPUTED_BY_DJANGO = frozenset({"MEDIA_URL", "STATIC_URL", "SECRET_KEY"})


def setting_value(name: str) -> Any:
    """Django setting ``name`` as set, None when unset.

    Read from the settings object behind ``django.conf.settings``, on which
    assignments, ``override_settings`` and pytest-django's ``settings`` act
    alike: through the lazy proxy, every read of a setting left unset raised
    and caught two exceptions, microseconds each (a presigned URL read five).
    """
    # LazySettings' own attribute, read past LazyObject.__getattribute__ (Python code run
    # on every attribute of the proxy): the same value, for a fifth of the time.
    wrapped = object.__getattribute__(django_settings, "_wrapped")
    if wrapped is empty or name in _COMPUTED_BY_DJANGO:
        return getattr(django_settings, name, None)  # Django sets itself up, or computes it
    return getattr(wrapped, name, None)


def _number_at_least(minimum: float, *, inclusive: bool) -> Callable[[Any], bool]:
    def accepts(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return number >= minimum if inclusive else number > minimum

    return accepts


def _strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _choices(check_id: str, *choices: str) -> Rule:
    listed = " or ".join(repr(choice) for choice in choices)
    return Rule(
        check_id,
        f"must be {listed}",
        lambda value: isinstance(value, str) and value.lower() in choices,
    )


def _key_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


_FROM_ENVIRONMENT = (
    'A value read from the environment is a string: convert it, e.g. int(os.environ["X"]).'
)
SIMULATE_RULE = Rule(
    "patchbay.E005",
    "must be None, True or False",
    lambda value: isinstance(value, bool),
    hint='A string from the environment is not a boolean: os.environ.get("X") == "true".',
)
BOOLEAN = Rule(
    "patchbay.E010",
    "must be True or False",
    lambda value: isinstance(value, bool),
    hint='A string from the environment is not a boolean: os.environ.get("X") == "true".',
)
POSITIVE = Rule(
    "patchbay.E011",
    "must be a positive number",
    _number_at_least(0, inclusive=False),
    hint=_FROM_ENVIRONMENT,
)
NON_NEGATIVE = Rule(
    "patchbay.E012",
    "must be a number, 0 or more",
    _number_at_least(0, inclusive=True),
    hint=_FROM_ENVIRONMENT,
)
STRINGS = Rule(
    "patchbay.E013",
    "must be a list of strings",
    _strings,
    hint='A single string is read letter by letter: write ["value"], not "value".',
)
STRING = Rule(
    "patchbay.E014",
    "must be a string",
    lambda value: isinstance(value, str),
)
PATH = Rule(
    "patchbay.E030",
    "must be a path (a str or a pathlib.Path)",
    lambda value: isinstance(value, (str, PurePath)),
)
ENCRYPTION_KEYS_RULE = Rule(
    "patchbay.E001",
    "must be a list of Fernet keys, newest first",
    lambda value: isinstance(value, (list, tuple, str)),
)
TEMPLATE_IDS_RULE = Rule(
    "patchbay.E009",
    "must be a dict of template ids by name",
    lambda value: isinstance(value, Mapping),
)
TENANT_MODEL_RULE = Rule(
    "patchbay.E070",
    'must name a model as "app_label.ModelName"',
    lambda value: isinstance(value, str) and re.fullmatch(r"\w+\.\w+", value) is not None,
    hint='The form of AUTH_USER_MODEL, e.g. "accounts.Organization".',
)
HOOK_RULE = Rule(
    "patchbay.E071",
    'must be a callable or the dotted path of one ("myproject.tenants.from_request")',
    lambda value: callable(value) or isinstance(value, str),
)


def _callback_delays(value: Any) -> bool:
    """One spacing in seconds, or one wait per status (queued, sent, delivered), all 0 or more."""
    spacing = _number_at_least(0, inclusive=True)
    if isinstance(value, (list, tuple)):
        return len(value) == 3 and all(spacing(item) for item in value)
    return spacing(value)


def delays_of(value: Any) -> tuple[float, float, float]:
    """The waits before each simulated status callback, from the setting's value."""
    if isinstance(value, (list, tuple)):
        first, second, third = (float(item) for item in value)
        return (first, second, third)
    spacing = float(value)
    return (spacing, spacing, spacing)


CALLBACK_DELAYS_RULE = Rule(
    "patchbay.E039",
    "must be a number of seconds (0 or more) or three of them, one per status",
    _callback_delays,
    hint="For example 1.5, or (1.0, 2.0, 3.0) for queued, sent and delivered; 0 delivers at once.",
)


def _meta_key(value: Any) -> bool:
    # A request.META key: REMOTE_ADDR, or an HTTP header as Django names it.
    return isinstance(value, str) and (
        value == "REMOTE_ADDR" or re.fullmatch(r"HTTP_[A-Z0-9_]+", value) is not None
    )


def _proxies(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 1
    if not isinstance(value, (list, tuple)):
        return False
    try:
        for item in value:
            if not isinstance(item, str):
                return False
            ipaddress.ip_network(item, strict=False)
    except ValueError:
        return False
    return True


def _regions(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(item, str) and re.fullmatch(r"[A-Z]{2}", item) for item in value
    )


CLIENT_IP_HEADER_RULE = Rule(
    "patchbay.E036",
    "must be a request.META key: REMOTE_ADDR or HTTP_<HEADER NAME>",
    _meta_key,
    hint='Django names headers in request.META: X-Forwarded-For is "HTTP_X_FORWARDED_FOR".',
)
TRUSTED_PROXIES_RULE = Rule(
    "patchbay.E037",
    "must be a number of proxies (1 or more) or a list of their networks, "
    '"10.0.0.0/8" or "192.0.2.10"',
    _proxies,
    hint="A count for proxies that each append to the header; networks to trust "
    "those addresses only.",
)
ALLOWED_COUNTRIES_RULE = Rule(
    "patchbay.E038",
    'must be None or a list of ISO 3166 alpha-2 region codes, e.g. ["US", "CA"]',
    _regions,
    hint='Upper-case region codes, as phonenumbers names them: "GB", not "UK" or "+44".',
)


#: "N/s", "N/m" or "N/h": N calls a second, minute or hour.
_RATE = re.compile(r"\s*([0-9]+)\s*/\s*([smh])\s*")
_PERIODS = {"s": 1, "m": 60, "h": 3600}
#: The outbound rate limits of PATCHBAY_RATE_LIMITS left unset (see docs/operations.rst).
DEFAULT_RATE_LIMITS: Mapping[str, str | None] = {"loops": "10/s", "stripe": "25/s"}


def parse_rate(value: object) -> tuple[int, int]:
    """``"10/s"`` as ``(10, 1)``: calls, and the seconds they are counted over.

    Raises ``ValueError`` for anything else (0 calls included).
    """
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) < 1:
        raise ValueError(f"{value!r} is not a rate such as '10/s', '600/m' or '5000/h'.")
    return int(match[1]), _PERIODS[match[2]]


def _rate_limits(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    try:
        for provider, rate in value.items():
            if not isinstance(provider, str):
                return False
            if rate is not None:
                parse_rate(rate)
    except ValueError:
        return False
    return True


def _with_default_rates(value: Any) -> dict[str, str | None]:
    # The project's entries over the defaults; a value patchbay.E060 reports adds none.
    return {**DEFAULT_RATE_LIMITS, **(value if _rate_limits(value) else {})}


RATE_LIMITS_RULE = Rule(
    "patchbay.E060",
    'must be a dict of rates by provider: "N/s", "N/m", "N/h" (N at least 1) or None',
    _rate_limits,
    hint='For example {"loops": "10/s", "twilio": "1/s", "stripe": None} (None: no limit).',
)


_FALSE_WORDS = frozenset({"false", "no", "off", "0", "none", "disabled"})
ENABLED_RULE = Rule(
    "patchbay.E017",
    "is a string that reads as false, but any non-empty string counts as true",
    lambda value: not (isinstance(value, str) and value.strip().lower() in _FALSE_WORDS),
    hint='Compare the environment variable: os.environ.get("X", "").lower() == "true".',
)


def _enabled(name: str, service: str) -> Setting[Any]:
    # Any value but a false-looking string: the spec computes these as
    # `... == "true" or (KEY and SECRET)`, which may be a key or "".
    return Setting(
        name,
        None,
        f"Unset: {service} is on when configured; any other false value switches live calls off.",
        kind="bool",
        rule=ENABLED_RULE,
    )


class PatchbaySettings:
    """Reads the declared settings; use the module-level ``conf`` instance."""

    # -- patchbay's own ------------------------------------------------------------------
    SIMULATE: Setting[bool | None] = Setting(
        "PATCHBAY_SIMULATE",
        None,
        "None follows TESTING and DEBUG; True/False forces simulation on or off.",
        kind="bool | None",
        rule=SIMULATE_RULE,
    )
    SIMULATE_WITHOUT_DEBUG = Setting(
        "PATCHBAY_SIMULATE_WITHOUT_DEBUG",
        False,
        "True acknowledges simulation with DEBUG off (a staging site): no patchbay.E031.",
        kind="bool",
        rule=BOOLEAN,
    )
    ENCRYPTION_KEYS: Setting[list[str] | None] = Setting(
        "PATCHBAY_ENCRYPTION_KEYS",
        None,
        "Fernet keys, newest first; unset: keys derived from SECRET_KEY(+_FALLBACKS).",
        kind="list[str]",
        convert=_key_list,
        rule=ENCRYPTION_KEYS_RULE,
        secret=True,
    )
    PUBLIC_URL = Setting(
        "PATCHBAY_PUBLIC_URL",
        "",
        "Public https base URL of the site, for callback URLs and signature checks.",
        kind="str",
        convert=lambda value: str(value).rstrip("/"),
        rule=STRING,
    )
    TIMEOUT = Setting(
        "PATCHBAY_TIMEOUT",
        10.0,
        "Seconds any outbound network call may take (connect and read).",
        kind="float",
        convert=float,
        rule=POSITIVE,
    )
    MAX_RETRIES = Setting(
        "PATCHBAY_MAX_RETRIES",
        2,
        "Retries the SDKs may make on connection errors and retryable statuses.",
        kind="int",
        convert=int,
        rule=NON_NEGATIVE,
    )
    RECORD_IN_BACKGROUND = Setting(
        "PATCHBAY_RECORD_IN_BACKGROUND",
        True,
        "Store calls made outside a transaction from a background thread, in batches.",
        kind="bool",
        rule=BOOLEAN,
    )
    SEND_IN_BACKGROUND = Setting(
        "PATCHBAY_SEND_IN_BACKGROUND",
        False,
        "True sends SMS and emails from a task after the caller's transaction commits.",
        kind="bool",
        rule=BOOLEAN,
    )
    SEND_MAX_ATTEMPTS = Setting(
        "PATCHBAY_SEND_MAX_ATTEMPTS",
        5,
        "Attempts at a background send that fails in a way safe to retry, before it is "
        "marked failed.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    SEND_RETRY_DELAY = Setting(
        "PATCHBAY_SEND_RETRY_DELAY",
        30.0,
        "Seconds before a background send's first retry; doubled at each retry.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    LOG_RETENTION_DAYS = Setting(
        "PATCHBAY_LOG_RETENTION_DAYS",
        30,
        "IntegrationLog and HealthCheck rows older than this are pruned.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    WEBHOOK_RETENTION_DAYS = Setting(
        "PATCHBAY_WEBHOOK_RETENTION_DAYS",
        90,
        "Processed or ignored WebhookEvent rows older than this are pruned.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    WEBHOOK_PROCESSING = Setting(
        "PATCHBAY_WEBHOOK_PROCESSING",
        "inline",
        '"inline" runs an event\'s handlers in the request; "background" stores it, answers '
        "and runs them in a task worker.",
        kind="str",
        convert=lambda value: str(value).lower(),
        rule=_choices("patchbay.E040", "inline", "background"),
    )
    WEBHOOK_MAX_ATTEMPTS = Setting(
        "PATCHBAY_WEBHOOK_MAX_ATTEMPTS",
        5,
        "Runs of a background event's handlers before it is marked dead.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    WEBHOOK_RETRY_DELAY = Setting(
        "PATCHBAY_WEBHOOK_RETRY_DELAY",
        30.0,
        "Seconds before a failed background event's first retry; doubled at each retry.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    WEBHOOK_CLAIM_SECONDS = Setting(
        "PATCHBAY_WEBHOOK_CLAIM_SECONDS",
        300.0,
        "Seconds a worker's claim on a background event holds; then the resume may hand it "
        "to another worker.",
        kind="float",
        convert=float,
        rule=POSITIVE,
    )
    BREAKER_THRESHOLD = Setting(
        "PATCHBAY_BREAKER_THRESHOLD",
        5,
        "Consecutive retryable failures that open a service's circuit breaker.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    BREAKER_COOLDOWN = Setting(
        "PATCHBAY_BREAKER_COOLDOWN",
        60.0,
        "Seconds an open breaker short-circuits calls before one trial call.",
        kind="float",
        convert=float,
        rule=POSITIVE,
    )
    BREAKER_RECHECK_AFTER = Setting(
        "PATCHBAY_BREAKER_RECHECK_AFTER",
        1.0,
        "Seconds a process trusts a closed, failure-free breaker before reading it again.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    HEALTH_DOWN_THRESHOLD = Setting(
        "PATCHBAY_HEALTH_DOWN_THRESHOLD",
        5,
        "Consecutive failures after which a DEGRADED service is marked DOWN.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    METRICS = Setting(
        "PATCHBAY_METRICS",
        False,
        "True counts calls and webhook deliveries for Prometheus (needs prometheus-client).",
        kind="bool",
        rule=BOOLEAN,
    )
    METRICS_TOKEN: Setting[str | None] = Setting(
        "PATCHBAY_METRICS_TOKEN",
        None,
        "Bearer token a scraper sends to the metrics view; unset: staff sessions only.",
        kind="str",
        rule=STRING,
        secret=True,
    )
    CACHE_ALIAS = Setting(
        "PATCHBAY_CACHE_ALIAS",
        "default",
        "The Django cache holding shared state (breakers, rate limits).",
        kind="str",
        rule=STRING,
    )
    RATE_LIMITS: Setting[dict[str, str | None]] = Setting(
        "PATCHBAY_RATE_LIMITS",
        dict(DEFAULT_RATE_LIMITS),
        "Outbound calls allowed per provider, shared by every process; merged over the "
        "defaults, None removes a limit.",
        kind="dict[str, str | None]",
        convert=_with_default_rates,
        rule=RATE_LIMITS_RULE,
    )
    RATE_LIMIT_MAX_WAIT = Setting(
        "PATCHBAY_RATE_LIMIT_MAX_WAIT",
        5.0,
        "Seconds a live call over its provider's rate limit may wait for its turn; 0 never waits.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    RATE_LIMIT_RECHECK_AFTER = Setting(
        "PATCHBAY_RATE_LIMIT_RECHECK_AFTER",
        1.0,
        "Seconds a process trusts that a provider without a limit is not on hold.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    WEBHOOK_MAX_BODY_SIZE = Setting(
        "PATCHBAY_WEBHOOK_MAX_BODY_SIZE",
        1024 * 1024,
        "Largest webhook body accepted, in bytes; larger deliveries get 413.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    REFUSED_WEBHOOK_WINDOW = Setting(
        "PATCHBAY_REFUSED_WEBHOOK_WINDOW",
        60,
        "Seconds over which refused webhook deliveries share one log row and warning; "
        "0 records each.",
        kind="int",
        convert=int,
        rule=NON_NEGATIVE,
    )
    CLIENT_IP_HEADER: Setting[str | None] = Setting(
        "PATCHBAY_CLIENT_IP_HEADER",
        None,
        'The request.META key holding the client address ("HTTP_X_FORWARDED_FOR"); '
        "unset: REMOTE_ADDR.",
        kind="str",
        rule=CLIENT_IP_HEADER_RULE,
    )
    TRUSTED_PROXIES: Setting[int | tuple[str, ...]] = Setting(
        "PATCHBAY_TRUSTED_PROXIES",
        1,
        "How many proxies append to PATCHBAY_CLIENT_IP_HEADER, or the networks they are in.",
        kind="int | list[str]",
        convert=lambda value: tuple(value) if isinstance(value, (list, tuple)) else value,
        rule=TRUSTED_PROXIES_RULE,
    )
    SERVICE_CONFIG_TTL = Setting(
        "PATCHBAY_SERVICE_CONFIG_TTL",
        5.0,
        "Seconds a process reuses the ExternalService row it read, and the configuration "
        "resolved from it (0 disables).",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    OAUTH2_REFRESH_SKEW = Setting(
        "PATCHBAY_OAUTH2_REFRESH_SKEW",
        60.0,
        "Seconds before its expiry an OAuth2 access token is refreshed (0: once expired).",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )
    OAUTH2_STATE_MAX_AGE = Setting(
        "PATCHBAY_OAUTH2_STATE_MAX_AGE",
        600,
        "Seconds a started OAuth2 authorization may take before its callback is refused.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    TENANT_MODEL: Setting[str | None] = Setting(
        "PATCHBAY_TENANT_MODEL",
        None,
        'The model of your tenants ("accounts.Organization"); unset: one site-wide setup.',
        kind="str",
        rule=TENANT_MODEL_RULE,
    )
    TENANT_RESOLVER: Setting[Any] = Setting(
        "PATCHBAY_TENANT_RESOLVER",
        None,
        "callable(request) -> tenant or None, run by patchbay.tenancy.TenantMiddleware.",
        kind="str | callable",
        rule=HOOK_RULE,
    )
    TENANT_REQUIRED = Setting(
        "PATCHBAY_TENANT_REQUIRED",
        True,
        "With a tenant model: a call for no tenant (and not SITE) fails with tenant_required.",
        kind="bool",
        rule=BOOLEAN,
    )
    ADMIN_TENANT: Setting[Any] = Setting(
        "PATCHBAY_ADMIN_TENANT",
        None,
        "callable(request) -> tenant or None: the tenant a staff user sees in the admin.",
        kind="str | callable",
        rule=HOOK_RULE,
    )
    PHONE_VERIFICATION_BACKEND = Setting(
        "PATCHBAY_PHONE_VERIFICATION_BACKEND",
        "local",
        '"local" (patchbay makes, hashes and texts codes) or "twilio_verify".',
        kind="str",
        rule=_choices("patchbay.E007", "local", "twilio_verify"),
    )
    PHONE_VERIFICATION_TTL = Setting(
        "PATCHBAY_PHONE_VERIFICATION_TTL",
        600,
        "Seconds a phone verification code stays valid.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    PHONE_VERIFICATION_MAX_ATTEMPTS = Setting(
        "PATCHBAY_PHONE_VERIFICATION_MAX_ATTEMPTS",
        5,
        "Guesses allowed per code; after them the code is dead, even the right one.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    PHONE_VERIFICATION_SENDS_PER_NUMBER = Setting(
        "PATCHBAY_PHONE_VERIFICATION_SENDS_PER_NUMBER",
        3,
        "Codes sent to one phone number per PATCHBAY_PHONE_VERIFICATION_WINDOW.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    PHONE_VERIFICATION_SENDS_PER_IP = Setting(
        "PATCHBAY_PHONE_VERIFICATION_SENDS_PER_IP",
        10,
        "Codes requested from one client IP per PATCHBAY_PHONE_VERIFICATION_WINDOW.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    PHONE_VERIFICATION_WINDOW = Setting(
        "PATCHBAY_PHONE_VERIFICATION_WINDOW",
        3600,
        "Seconds over which the send limits count, from the first send.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    PHONE_VERIFICATION_BIND_SESSION = Setting(
        "PATCHBAY_PHONE_VERIFICATION_BIND_SESSION",
        True,
        "Whether a code started with a session's request is checked only with that session.",
        kind="bool",
        rule=BOOLEAN,
    )
    MAGIC_LINK_TTL_MINUTES = Setting(
        "PATCHBAY_MAGIC_LINK_TTL_MINUTES",
        15,
        "Minutes a sign-in link sent by send_login_code_email stays valid.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    MAGIC_LINK_SENDS_PER_USER = Setting(
        "PATCHBAY_MAGIC_LINK_SENDS_PER_USER",
        5,
        "Sign-in links sent to one user (or address) per PATCHBAY_MAGIC_LINK_WINDOW.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    MAGIC_LINK_SENDS_PER_IP = Setting(
        "PATCHBAY_MAGIC_LINK_SENDS_PER_IP",
        20,
        "Sign-in links requested from one client IP per PATCHBAY_MAGIC_LINK_WINDOW.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    MAGIC_LINK_WINDOW = Setting(
        "PATCHBAY_MAGIC_LINK_WINDOW",
        3600,
        "Seconds over which the sign-in link send limits count, from the first send.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    MAGIC_LINK_CONFIRM = Setting(
        "PATCHBAY_MAGIC_LINK_CONFIRM",
        True,
        "Whether opening a sign-in link shows a page whose POST signs in (False: GET does).",
        kind="bool",
        rule=BOOLEAN,
    )
    MAGIC_LINK_AUTO_SUBMIT = Setting(
        "PATCHBAY_MAGIC_LINK_AUTO_SUBMIT",
        True,
        "Whether that page submits itself with a script; False: the visitor clicks.",
        kind="bool",
        rule=BOOLEAN,
    )
    MAGIC_LINK_REPLACES_OLDER = Setting(
        "PATCHBAY_MAGIC_LINK_REPLACES_OLDER",
        True,
        "Whether a sign-in link, once emailed, ends the user's earlier unused links.",
        kind="bool",
        rule=BOOLEAN,
    )
    EMAIL_SUPPRESS_ON: Setting[tuple[str, ...]] = Setting(
        "PATCHBAY_EMAIL_SUPPRESS_ON",
        ("bounced", "complained", "unsubscribed"),
        "The normalized email event kinds that suppress an address; [] never suppresses.",
        kind="list[str]",
        convert=tuple,
        rule=STRINGS,
    )
    UPLOADS_LOGIN_REQUIRED = Setting(
        "PATCHBAY_UPLOADS_LOGIN_REQUIRED",
        True,
        "Whether the direct-upload endpoints need a signed-in user.",
        kind="bool",
        rule=BOOLEAN,
    )
    SIMULATED_BUCKET_ROOT: Setting[str | PurePath | None] = Setting(
        "PATCHBAY_SIMULATED_BUCKET_ROOT",
        None,
        "Directory of the simulated S3 bucket; unset: MEDIA_ROOT/patchbay-s3, else a temp dir.",
        kind="str or pathlib.Path",
        rule=PATH,
    )
    # The spec's switch for test runs; only True counts (see should_simulate).
    TESTING: Setting[Any] = Setting(
        "TESTING",
        None,
        "True turns simulation on, unless PATCHBAY_SIMULATE says otherwise.",
        kind="bool",
    )

    # -- Stripe ------------------------------------------------------------------------
    STRIPE_API_KEY: Setting[str | None] = Setting(
        "STRIPE_API_KEY", None, "Secret key, sk_test_… or sk_live_….", kind="str", secret=True
    )
    STRIPE_WEBHOOK_SECRET: Setting[Any] = Setting(
        "STRIPE_WEBHOOK_SECRET",
        None,
        "Signing secret(s), whsec_…; a list or comma-separated string while rotating.",
        kind="str | list[str]",
        secret=True,
    )
    STRIPE_ENABLED = _enabled("STRIPE_ENABLED", "Stripe")
    STRIPE_API_VERSION: Setting[str | None] = Setting(
        "STRIPE_API_VERSION",
        None,
        "Pinned API version; unset: the installed SDK's own.",
        kind="str",
        rule=STRING,
    )
    STRIPE_API_BASE: Setting[str | None] = Setting(
        "STRIPE_API_BASE",
        None,
        "API base URL, e.g. a local stripe-mock; unset: the SDK's own.",
        kind="str",
        rule=STRING,
    )
    STRIPE_WEBHOOK_TOLERANCE = Setting(
        "STRIPE_WEBHOOK_TOLERANCE",
        300,
        "Seconds a webhook signature's timestamp may differ from now.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    STRIPE_CHECKOUT_SUCCESS_URL = Setting(
        "STRIPE_CHECKOUT_SUCCESS_URL",
        "/?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        "Where Checkout returns after payment when a shortcut is given no success_url.",
        kind="str",
        rule=STRING,
    )
    STRIPE_CHECKOUT_CANCEL_URL = Setting(
        "STRIPE_CHECKOUT_CANCEL_URL",
        "/?checkout=canceled",
        "Where Checkout returns when the customer gives up.",
        kind="str",
        rule=STRING,
    )
    STRIPE_ALREADY_SUBSCRIBED = Setting(
        "STRIPE_ALREADY_SUBSCRIBED",
        "refuse",
        "What create_subscription_checkout does for a user with a live subscription: "
        '"refuse" (error_code already_subscribed), "portal" (a billing portal session) '
        'or "allow" (a second subscription).',
        kind="str",
        rule=_choices("patchbay.E018", "refuse", "portal", "allow"),
    )

    # -- Twilio ------------------------------------------------------------------------
    TWILIO_ACCOUNT_SID: Setting[str | None] = Setting(
        "TWILIO_ACCOUNT_SID", None, "The account SID, AC….", kind="str", rule=STRING
    )
    TWILIO_AUTH_TOKEN: Setting[str | None] = Setting(
        "TWILIO_AUTH_TOKEN",
        None,
        "The auth token; also signs classic (HMAC-SHA1) webhooks.",
        kind="str",
        secret=True,
    )
    TWILIO_PHONE_NUMBER: Setting[str | None] = Setting(
        "TWILIO_PHONE_NUMBER", None, "Default sender, E.164.", kind="str", rule=STRING
    )
    TWILIO_MESSAGING_SERVICE_SID: Setting[str | None] = Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        None,
        "MG…; sends through a Messaging Service instead of one number.",
        kind="str",
        rule=STRING,
    )
    TWILIO_WHATSAPP_NUMBER: Setting[str | None] = Setting(
        "TWILIO_WHATSAPP_NUMBER",
        None,
        "WhatsApp sender, E.164; unset: TWILIO_PHONE_NUMBER.",
        kind="str",
        rule=STRING,
    )
    TWILIO_WEBHOOK_SIGNING_KEY: Setting[str | None] = Setting(
        "TWILIO_WEBHOOK_SIGNING_KEY",
        None,
        "SharedKey secret for HMAC-SHA256 signed webhooks.",
        kind="str",
        secret=True,
    )
    TWILIO_ENABLED = _enabled("TWILIO_ENABLED", "Twilio")
    TWILIO_VERIFY_SERVICE_SID = Setting(
        "TWILIO_VERIFY_SERVICE_SID",
        "",
        "The Twilio Verify service (VA…) of the twilio_verify backend.",
        kind="str",
        rule=STRING,
    )
    TWILIO_DEFAULT_REGION: Setting[str | None] = Setting(
        "TWILIO_DEFAULT_REGION",
        None,
        'Region ("GB"...) of numbers written without + and a country code.',
        kind="str",
        rule=STRING,
    )
    TWILIO_VERIFICATION_MESSAGE = Setting(
        "TWILIO_VERIFICATION_MESSAGE",
        "Your verification code is: {code}",
        "Text of verification code messages; {code} is replaced by the code.",
        kind="str",
        rule=STRING,
    )
    TWILIO_ALLOWED_COUNTRIES: Setting[tuple[str, ...] | None] = Setting(
        "TWILIO_ALLOWED_COUNTRIES",
        None,
        'Regions ("US", "GB"...) messages and codes may be sent to; unset: all.',
        kind="list[str]",
        convert=tuple,
        rule=ALLOWED_COUNTRIES_RULE,
    )

    TWILIO_SIMULATED_CALLBACK_DELAYS = Setting(
        "PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS",
        (0.0, 0.0, 0.0),
        "Seconds before each simulated status callback (queued, sent, delivered), one "
        "spacing or three waits; 0 delivers them at once, within the send.",
        kind="float | tuple[float, float, float]",
        convert=delays_of,
        rule=CALLBACK_DELAYS_RULE,
    )

    # -- Loops -------------------------------------------------------------------------
    LOOPS_API_KEY: Setting[str | None] = Setting(
        "LOOPS_API_KEY", None, "From Settings → API in Loops.", kind="str", secret=True
    )
    LOOPS_WEBHOOK_SECRET: Setting[str | None] = Setting(
        "LOOPS_WEBHOOK_SECRET",
        None,
        "Signing secret of the webhook endpoint, whsec_….",
        kind="str",
        secret=True,
    )
    LOOPS_API_BASE = Setting(
        "LOOPS_API_BASE",
        "https://app.loops.so/api/v1",
        "API base URL.",
        kind="str",
        rule=STRING,
    )
    LOOPS_ENABLED = _enabled("LOOPS_ENABLED", "Loops")
    LOOPS_TRANSACTIONAL_IDS: Setting[Mapping[str, Any] | None] = Setting(
        "LOOPS_TRANSACTIONAL_IDS",
        None,
        "Transactional template ids by name, for the shortcuts and send_template.",
        kind="dict[str, str]",
        rule=TEMPLATE_IDS_RULE,
    )
    LOOPS_WEBHOOK_TOLERANCE = Setting(
        "LOOPS_WEBHOOK_TOLERANCE",
        300,
        "Seconds a delivery's webhook-timestamp may differ from now.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    LOOPS_RETRY_BACKOFF = Setting(
        "LOOPS_RETRY_BACKOFF",
        0.5,
        "Backoff factor, in seconds, of retried requests.",
        kind="float",
        convert=float,
        rule=NON_NEGATIVE,
    )

    # -- S3 / R2 -----------------------------------------------------------------------
    AWS_ACCESS_KEY_ID: Setting[str | None] = Setting(
        "AWS_ACCESS_KEY_ID",
        None,
        "Access key id; unset: boto3's own chain (IAM role...).",
        kind="str",
        rule=STRING,
    )
    AWS_SECRET_ACCESS_KEY: Setting[str | None] = Setting(
        "AWS_SECRET_ACCESS_KEY", None, "Secret access key.", kind="str", secret=True
    )
    AWS_STORAGE_BUCKET_NAME: Setting[str | None] = Setting(
        "AWS_STORAGE_BUCKET_NAME", None, "The bucket.", kind="str", rule=STRING
    )
    AWS_REGION = Setting(
        "AWS_REGION",
        "us-east-1",
        'The bucket\'s region; "auto" for Cloudflare R2.',
        kind="str",
        rule=STRING,
    )
    AWS_S3_ENDPOINT_URL: Setting[str | None] = Setting(
        "AWS_S3_ENDPOINT_URL",
        None,
        "For R2/MinIO, e.g. https://<account>.r2.cloudflarestorage.com.",
        kind="str",
        rule=STRING,
    )
    AWS_ENABLED = _enabled("AWS_ENABLED", "S3")
    AWS_S3_CUSTOM_DOMAIN: Setting[str | None] = Setting(
        "AWS_S3_CUSTOM_DOMAIN",
        None,
        "Domain of public object URLs (a CDN in front of the bucket).",
        kind="str",
        rule=STRING,
    )
    AWS_S3_ALLOW_PUBLIC_ACL = Setting(
        "AWS_S3_ALLOW_PUBLIC_ACL",
        False,
        "Whether public uploads get the public-read ACL (most buckets refuse ACLs).",
        kind="bool",
        rule=BOOLEAN,
    )
    AWS_UPLOAD_BUCKET: Setting[str | None] = Setting(
        "AWS_UPLOAD_BUCKET",
        None,
        "The bucket of direct uploads; unset: AWS_STORAGE_BUCKET_NAME.",
        kind="str",
        rule=STRING,
    )
    AWS_UPLOAD_PREFIX = Setting(
        "AWS_UPLOAD_PREFIX",
        "uploads",
        "The key prefix of direct uploads.",
        kind="str",
        rule=STRING,
    )
    AWS_UPLOAD_ALLOWED_CONTENT_TYPES: Setting[tuple[str, ...]] = Setting(
        "AWS_UPLOAD_ALLOWED_CONTENT_TYPES",
        SAFE_UPLOAD_TYPES,
        'Content types (or wildcards, "image/*") of direct uploads; script-capable ones only'
        " by name.",
        kind="list[str]",
        convert=tuple,
        rule=STRINGS,
    )
    AWS_UPLOAD_FORM_EXPIRATION = Setting(
        "AWS_UPLOAD_FORM_EXPIRATION",
        600,
        "Seconds a direct-upload form (and its file_url) stays valid.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )
    AWS_DIRECT_UPLOAD_METHOD = Setting(
        "AWS_DIRECT_UPLOAD_METHOD",
        "auto",
        '"post" forms, "put" URLs, or "auto": PUT for Cloudflare R2, POST elsewhere.',
        kind="str",
        convert=lambda value: str(value).lower(),
        rule=_choices("patchbay.E015", "auto", "post", "put"),
    )
    AWS_MAX_UPLOAD_SIZE = Setting(
        "AWS_MAX_UPLOAD_SIZE",
        10 * 1024 * 1024,
        "The largest direct upload, in bytes.",
        kind="int",
        convert=int,
        rule=POSITIVE,
    )

    def get(self, name: str, default: Any = None) -> Any:
        """A declared setting's value, or any other setting's (``default`` when unset).

        Declared settings have their default in the registry: passing one is refused.
        """
        declared = SETTINGS.get(name)
        if declared is not None:
            if default is not None:
                raise TypeError(f"{name} is declared in patchbay.conf with its default.")
            return declared.read()
        value = setting_value(name)
        return default if value is None else value

    def raw(self, name: str) -> Any:
        """The value of Django setting ``name`` as set, None when unset."""
        return setting_value(name)


conf = PatchbaySettings()
