"""Lazily-read settings with documented defaults.

Every setting is read from ``django.conf.settings`` at access time, so
``override_settings`` in tests and per-environment settings modules just work.
The provider settings named by the spec (``STRIPE_API_KEY``, ``TWILIO_AUTH_TOKEN``...)
keep their names; patchbay's own settings are prefixed ``PATCHBAY_``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.utils.functional import empty

_MISSING = object()


class PatchbaySettings:
    """Accessor for patchbay's settings; use the module-level ``conf`` instance."""

    def get(self, name: str, default: Any = None) -> Any:
        """Read any Django setting, treating an unset setting as ``default``."""
        # Most of patchbay's settings are usually unset, and asking LazySettings for an
        # unset one raises and catches an AttributeError in Python code, which costs
        # microseconds on every client call: look in the settings object itself first.
        wrapped = django_settings.__dict__.get("_wrapped", empty)
        if wrapped is not empty and getattr(wrapped, name, _MISSING) is _MISSING:
            return default
        value = getattr(django_settings, name, _MISSING)
        return default if value is _MISSING else value

    @property
    def SIMULATE(self) -> bool | None:
        """None follows ``DEBUG``; True/False forces simulation on or off."""
        value: bool | None = self.get("PATCHBAY_SIMULATE", None)
        return value

    @property
    def ENCRYPTION_KEYS(self) -> list[str]:
        """Fernet keys, newest first. Empty: keys derived from SECRET_KEY(+_FALLBACKS)."""
        keys = self.get("PATCHBAY_ENCRYPTION_KEYS", None)
        if keys is None:
            return []
        if isinstance(keys, str):
            return [keys]
        return list(keys)

    @property
    def PUBLIC_URL(self) -> str:
        """Public https base URL of the site, for callback URLs and signature checks."""
        value: str = self.get("PATCHBAY_PUBLIC_URL", "") or ""
        return value.rstrip("/")

    @property
    def TIMEOUT(self) -> float:
        """Seconds any outbound network call may take (connect and read)."""
        return float(self.get("PATCHBAY_TIMEOUT", 10.0))

    @property
    def MAX_RETRIES(self) -> int:
        """Retries the SDKs may make on connection errors and retryable statuses."""
        return int(self.get("PATCHBAY_MAX_RETRIES", 2))

    @property
    def LOG_RETENTION_DAYS(self) -> int:
        """IntegrationLog and HealthCheck rows older than this are pruned."""
        return int(self.get("PATCHBAY_LOG_RETENTION_DAYS", 30))

    @property
    def RECORD_IN_BACKGROUND(self) -> bool:
        """Store calls made outside a transaction from a background thread, in batches."""
        return bool(self.get("PATCHBAY_RECORD_IN_BACKGROUND", True))

    @property
    def WEBHOOK_RETENTION_DAYS(self) -> int:
        """Processed or ignored WebhookEvent rows older than this are pruned."""
        return int(self.get("PATCHBAY_WEBHOOK_RETENTION_DAYS", 90))

    @property
    def BREAKER_THRESHOLD(self) -> int:
        """Consecutive retryable failures that open a service's circuit breaker."""
        return int(self.get("PATCHBAY_BREAKER_THRESHOLD", 5))

    @property
    def BREAKER_COOLDOWN(self) -> float:
        """Seconds an open breaker short-circuits calls before one trial call."""
        return float(self.get("PATCHBAY_BREAKER_COOLDOWN", 60.0))

    @property
    def BREAKER_RECHECK_AFTER(self) -> float:
        """Seconds a process trusts a closed, failure-free breaker before reading it again."""
        return float(self.get("PATCHBAY_BREAKER_RECHECK_AFTER", 1.0))

    @property
    def HEALTH_DOWN_THRESHOLD(self) -> int:
        """Consecutive failures after which a DEGRADED service is marked DOWN."""
        return int(self.get("PATCHBAY_HEALTH_DOWN_THRESHOLD", 5))

    @property
    def CACHE_ALIAS(self) -> str:
        """The Django cache holding shared state (breakers, rate limits)."""
        value: str = self.get("PATCHBAY_CACHE_ALIAS", "default")
        return value

    @property
    def WEBHOOK_MAX_BODY_SIZE(self) -> int:
        """Largest webhook body accepted, in bytes; larger deliveries get 413."""
        return int(self.get("PATCHBAY_WEBHOOK_MAX_BODY_SIZE", 1024 * 1024))

    @property
    def SERVICE_CONFIG_TTL(self) -> float:
        """Seconds a process reuses the ExternalService row it read (0 disables)."""
        return float(self.get("PATCHBAY_SERVICE_CONFIG_TTL", 5.0))

    @property
    def PHONE_VERIFICATION_BACKEND(self) -> str:
        """``"local"`` (patchbay makes, hashes and texts codes) or ``"twilio_verify"``."""
        value: str = self.get("PATCHBAY_PHONE_VERIFICATION_BACKEND", "local")
        return value

    @property
    def PHONE_VERIFICATION_TTL(self) -> int:
        """Seconds a phone verification code stays valid."""
        return int(self.get("PATCHBAY_PHONE_VERIFICATION_TTL", 600))

    @property
    def PHONE_VERIFICATION_MAX_ATTEMPTS(self) -> int:
        """Guesses allowed per code; after them the code is dead, even the right one."""
        return int(self.get("PATCHBAY_PHONE_VERIFICATION_MAX_ATTEMPTS", 5))

    @property
    def PHONE_VERIFICATION_SENDS_PER_NUMBER(self) -> int:
        """Codes sent to one phone number per ``PATCHBAY_PHONE_VERIFICATION_WINDOW``."""
        return int(self.get("PATCHBAY_PHONE_VERIFICATION_SENDS_PER_NUMBER", 3))

    @property
    def PHONE_VERIFICATION_SENDS_PER_IP(self) -> int:
        """Codes requested from one client IP per ``PATCHBAY_PHONE_VERIFICATION_WINDOW``."""
        return int(self.get("PATCHBAY_PHONE_VERIFICATION_SENDS_PER_IP", 10))

    @property
    def PHONE_VERIFICATION_WINDOW(self) -> int:
        """Seconds over which the send limits count, from the first send."""
        return int(self.get("PATCHBAY_PHONE_VERIFICATION_WINDOW", 3600))

    @property
    def TWILIO_VERIFY_SERVICE_SID(self) -> str:
        """The Twilio Verify service (``VA…``) of the ``twilio_verify`` backend."""
        value: str = self.get("TWILIO_VERIFY_SERVICE_SID", "") or ""
        return value

    @property
    def MAGIC_LINK_TTL_MINUTES(self) -> int:
        """Minutes a sign-in link sent by ``send_login_code_email`` stays valid."""
        return int(self.get("PATCHBAY_MAGIC_LINK_TTL_MINUTES", 15))

    @property
    def MAGIC_LINK_SENDS_PER_USER(self) -> int:
        """Sign-in links sent to one user per ``PATCHBAY_MAGIC_LINK_WINDOW``."""
        return int(self.get("PATCHBAY_MAGIC_LINK_SENDS_PER_USER", 5))

    @property
    def MAGIC_LINK_SENDS_PER_IP(self) -> int:
        """Sign-in links requested from one client IP per ``PATCHBAY_MAGIC_LINK_WINDOW``."""
        return int(self.get("PATCHBAY_MAGIC_LINK_SENDS_PER_IP", 20))

    @property
    def MAGIC_LINK_WINDOW(self) -> int:
        """Seconds over which the sign-in link send limits count, from the first send."""
        return int(self.get("PATCHBAY_MAGIC_LINK_WINDOW", 3600))

    @property
    def MAGIC_LINK_CONFIRM(self) -> bool:
        """Whether opening a sign-in link asks for a click (POST) before signing in."""
        return bool(self.get("PATCHBAY_MAGIC_LINK_CONFIRM", False))


conf = PatchbaySettings()
