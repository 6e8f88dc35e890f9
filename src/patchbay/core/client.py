"""The base class every service client extends.

A client method describes one operation as two callables, ``live`` (talks to
the service through its SDK) and ``simulate`` (answers offline), and hands
them to :meth:`BaseClient.call`, which decides which to run and does
everything else once for every service: the disabled switch, configuration
checks, the circuit breaker, exception mapping, health bookkeeping, the
simulated outbox, Python logging and the IntegrationLog row.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from patchbay.core import registry
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.config import ConfigField, ServiceConfig, resolve_config
from patchbay.core.health import Outcome
from patchbay.core.recording import record_call
from patchbay.core.sdk import import_sdk, sdk_available
from patchbay.core.simulation import SimulatedCall, console, outbox, should_simulate
from patchbay.exceptions import SDKNotInstalled, ServiceError
from patchbay.redaction import Redactor
from patchbay.results import Result, failure, success

logger = logging.getLogger("patchbay")

# Failures that say the service (or our access to it) is unwell, not the request.
SERVICE_FAULT_CODES = frozenset({"authentication_error", "permission_error"})


class BaseClient:
    """Shared behaviour of every patchbay client; subclass it per provider.

    Subclasses set ``provider`` (which registers them), ``config_fields`` and,
    if they need one, ``sdk_module``/``extra``; they override
    :meth:`translate_exception` to map their SDK's exceptions and
    :meth:`probe` to check the service is reachable.
    """

    #: Short unique name (``"stripe"``); setting it registers the class.
    provider: ClassVar[str] = ""
    #: Human name for messages; defaults to the provider, title-cased.
    display_name: ClassVar[str] = ""
    #: Module of the provider SDK, imported only for live calls.
    sdk_module: ClassVar[str | None] = None
    #: The pip extra that installs the SDK, named in error messages.
    extra: ClassVar[str | None] = None
    #: Configuration values by name; see :class:`~patchbay.core.config.ConfigField`.
    config_fields: ClassVar[Mapping[str, ConfigField]] = {}
    #: A Django setting that, when false (but not None), switches live calls off.
    enabled_setting: ClassVar[str | None] = None
    #: Name of the config field holding the webhook signing secret, if any.
    webhook_secret_field: ClassVar[str | None] = None
    #: URL names (in the ``patchbay`` namespace) of this provider's webhook views.
    webhook_url_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "config_fields" in cls.__dict__:
            cls.config_fields = {
                name: field.declared() for name, field in cls.config_fields.items()
            }
        if "provider" in cls.__dict__ and cls.provider:
            registry.register(cls)

    def __init__(self, debug_mode: bool | None = None, **overrides: Any) -> None:
        self.config: ServiceConfig = resolve_config(
            type(self), {name: value for name, value in overrides.items() if value is not None}
        )
        self.debug_mode: bool = should_simulate(debug_mode)
        self.redactor = Redactor(self.config.secret_values())

    def __repr__(self) -> str:
        mode = "simulated" if self.debug_mode else "live"
        return f"<{type(self).__name__} provider={self.provider!r} {mode}>"

    @functools.cached_property
    def breaker(self) -> CircuitBreaker:
        """The service's circuit breaker, made on first use.

        Simulated and local operations (presigning) never need it.
        """
        return CircuitBreaker(self.provider)

    @classmethod
    def label(cls) -> str:
        """The service's human name, for messages."""
        return cls.display_name or cls.provider.title()

    @classmethod
    def sdk_installed(cls) -> bool:
        """Whether the provider SDK can be imported (without importing it)."""
        return cls.sdk_module is None or sdk_available(cls.sdk_module)

    def sdk(self) -> Any:
        """The provider SDK module, imported on first use."""
        if not self.sdk_module:
            raise TypeError(f"{type(self).__name__} declares no sdk_module.")
        return import_sdk(self.sdk_module, self.extra or self.provider)

    # -- the one code path every operation goes through -----------------------------

    def call(
        self,
        operation: str,
        live: Callable[[], Mapping[str, Any]],
        *,
        simulate: Callable[[], Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        validate: Callable[[], None] | None = None,
        private: Mapping[str, Any] | None = None,
        local: bool = False,
    ) -> Result:
        """Run ``operation`` live or simulated and return its result dict.

        ``params`` describes the request: redacted, it becomes the log's request
        summary; in simulation it is stored, unredacted, in the outbox together
        with ``private`` (e.g. a message body), which is never logged.
        ``validate`` runs first, live or simulated: a :class:`ServiceError` it
        raises refuses the call before anything is sent (recorded, but not
        counted against the service's health).

        ``local`` marks an operation computed on this machine that never reaches
        the service (presigning a URL). It neither consults nor feeds the circuit
        breaker and the health counters, which are about the service answering,
        and only its failures are stored as IntegrationLog rows: a row for every
        signature would cost a database commit each, for no exchange with anyone.
        It is logged on the ``patchbay`` logger like any call.
        """
        started = time.perf_counter()
        status_code: int | None = None
        try:
            if validate is not None:
                validate()
            result = self._run(operation, live, simulate, params or {}, private or {}, local)
        except ServiceError as exc:  # raised before the call, e.g. by validation
            result = self._failure(exc)
            status_code = exc.status
        except SDKNotInstalled as exc:  # validation needed an SDK (e.g. phonenumbers)
            result = failure(str(exc), error_code="sdk_missing")
        status_code = result.pop("_status_code", status_code)
        health = result.pop("_health", None)
        record_call(
            provider=self.provider,
            operation=operation,
            success=bool(result["success"]),
            duration_ms=round((time.perf_counter() - started) * 1000),
            simulated=bool(result.get("simulated", False)),
            error=result.get("error", ""),
            error_code=result.get("error_code", ""),
            status_code=status_code,
            summary=self.redactor.data(params or {}),
            health=health,
            service_name=self.label(),
            store=not (local and result["success"]),
        )
        return result

    def _run(
        self,
        operation: str,
        live: Callable[[], Mapping[str, Any]],
        simulate: Callable[[], Mapping[str, Any]],
        params: Mapping[str, Any],
        private: Mapping[str, Any],
        local: bool = False,
    ) -> Result:
        if self.config.disabled_in_admin or (self.config.disabled_reason and not self.debug_mode):
            return failure(self.config.disabled_reason, error_code="service_disabled")
        if self.debug_mode:
            try:
                data = dict(simulate())
            except (ServiceError, SDKNotInstalled):
                raise
            except Exception as exc:  # e.g. a missing local file: the same error as live
                raise self.translate_exception(exc) from exc
            outbox.append(SimulatedCall(self.provider, operation, {**params, **private, **data}))
            console.info(
                "[simulated] %s.%s %s", self.provider, operation, self.redactor.data(params)
            )
            return success(**data, simulated=True)
        if not self.sdk_installed():
            missing_sdk = SDKNotInstalled(self.sdk_module or "", self.extra or self.provider)
            return failure(str(missing_sdk), error_code="sdk_missing")
        missing = self.config.missing()
        if missing:
            return failure(
                f"{self.label()} is not configured: missing {', '.join(missing)} "
                f"(set {', '.join(self.setting_names(missing))} or configure it in the admin).",
                error_code="not_configured",
            )
        if local:
            return self._run_local(operation, live)
        allowed, breaker_clean = self.breaker.admit()
        if not allowed:
            return failure(
                f"{self.label()} is failing; calls are paused for up to "
                f"{int(self.breaker.cooldown)} s by the circuit breaker.",
                error_code="circuit_open",
                retryable=True,
            )
        try:
            data = dict(live())
        except ServiceError as exc:
            error = exc
        except Exception as exc:  # SDK exceptions never reach callers.
            error = self.translate_exception(exc)
            if error.error_code == "unexpected_error":
                logger.exception("%s.%s raised unexpectedly", self.provider, operation)
        else:
            if not breaker_clean:  # else there is nothing to reset: spare the cache write
                self.breaker.record_success()
            # Recorded with the IntegrationLog row, in one transaction (see call()).
            return {**success(**data), "_health": Outcome(success=True)}
        if error.retryable:
            self.breaker.record_failure()
        elif not breaker_clean:
            self.breaker.record_success()  # the service answered
        result = self._failure(error)
        health = Outcome(
            success=False,
            service_fault=error.retryable or error.error_code in SERVICE_FAULT_CODES,
            error=result["error"],
        )
        return {**result, "_status_code": error.status, "_health": health}

    def _run_local(self, operation: str, live: Callable[[], Mapping[str, Any]]) -> Result:
        # Like a live call, without the breaker and the health bookkeeping.
        try:
            return success(**live())
        except ServiceError as exc:
            error = exc
        except Exception as exc:
            error = self.translate_exception(exc)
            if error.error_code == "unexpected_error":
                logger.exception("%s.%s raised unexpectedly", self.provider, operation)
        return {**self._failure(error), "_status_code": error.status}

    def _failure(self, error: ServiceError) -> Result:
        return failure(
            self.redactor.text(error.message),
            error_code=error.error_code,
            retryable=error.retryable,
        )

    @classmethod
    def setting_names(cls, names: list[str]) -> list[str]:
        """The Django setting of each configuration value in ``names`` (else its own name)."""
        return [cls.config_fields[name].setting or name for name in names]

    # -- hooks for subclasses ----------------------------------------------------

    def translate_exception(self, exc: Exception) -> ServiceError:
        """Map an exception from the SDK or network to a :class:`ServiceError`.

        Subclasses handle their SDK's exceptions and defer to this for the rest.
        """
        requests = sys.modules.get("requests")  # the transport of several SDKs, if loaded
        timeouts: tuple[type[BaseException], ...] = (TimeoutError,)  # socket.timeout too
        connection_errors: tuple[type[BaseException], ...] = (ConnectionError,)
        if requests is not None:
            timeouts += (requests.Timeout,)
            connection_errors += (requests.ConnectionError,)
        if isinstance(exc, timeouts):
            return ServiceError(
                f"{self.label()} did not answer in time.", error_code="timeout", retryable=True
            )
        if isinstance(exc, connection_errors):
            return ServiceError(
                f"Could not connect to {self.label()}.",
                error_code="connection_error",
                retryable=True,
            )
        return ServiceError(
            f"Unexpected error calling {self.label()}: {type(exc).__name__}: {exc}",
            error_code="unexpected_error",
        )

    def probe(self) -> Mapping[str, Any]:
        """Make the cheapest live call that proves the service is reachable."""
        raise ServiceError(f"{self.label()} has no health probe.", error_code="not_supported")

    def check_health(self) -> Result:
        """Run the health probe as an operation (logged, counted, simulated)."""
        return self.call("health_check", self.probe, simulate=lambda: {"healthy": True})
