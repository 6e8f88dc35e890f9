"""The base class every service client extends.

A client method builds one operation's :class:`~patchbay.core.request.Request`
(its input parsed and validated) and hands it to :meth:`BaseClient.call` (or
has :meth:`BaseClient.perform` build it), which decides whether to send or to
simulate it and does everything else once for every service: the disabled
switch, configuration checks, the circuit breaker, exception mapping, health
bookkeeping, the simulated outbox, Python logging and the IntegrationLog row.
The private run methods return a :class:`CallOutcome`: the result, and beside
it what is recorded about the call but never shown to the caller.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, ParamSpec, cast, overload

from django.utils.functional import cached_property

from patchbay.conf import conf
from patchbay.core import registry
from patchbay.core.auth import Authentication
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.config import ConfigField, ServiceConfig, check_overrides, shared_config
from patchbay.core.declaration import (
    DECLARED_NAMES,
    ServiceDeclaration,
    declared_fields,
    with_authentication_fields,
)
from patchbay.core.declaration import label as declared_label
from patchbay.core.declaration import missing_sdk as declared_missing_sdk
from patchbay.core.health import Outcome as HealthOutcome
from patchbay.core.recording import record_call
from patchbay.core.request import CallableRequest, Request, SuccessT
from patchbay.core.sdk import import_sdk
from patchbay.core.simulation import SimulatedCall, console, outbox, should_simulate
from patchbay.core.throttle import DEFAULT_HOLD, Throttle
from patchbay.exceptions import SDKNotInstalled, ServiceError
from patchbay.redaction import Redactor
from patchbay.results import (
    Failure,
    HealthCheckResult,
    HealthCheckSuccess,
    RateLimitedFailure,
    Result,
    failure,
)
from patchbay.tenancy import UNSET, resolve_tenant_key, tenant_missing, use_tenant

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("patchbay")
P = ParamSpec("P")

# Failures that say the service (or our access to it) is unwell, not the request.
SERVICE_FAULT_CODES = frozenset(
    {"authentication_error", "permission_error", "reauthorization_required"}
)


class CallOutcome(NamedTuple):
    """What running one call produced: the result, and what is recorded beside it."""

    #: The result dict returned to the caller.
    result: Mapping[str, Any]
    #: The service's HTTP status, when it answered with one (for the IntegrationLog row).
    status_code: int | None = None
    #: The call's effect on the service's health (a simulated one only ends UNKNOWN).
    health: HealthOutcome | None = None


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
    #: How :meth:`http` authenticates: one of :mod:`patchbay.core.auth`'s declarations.
    authentication: ClassVar[Authentication | None] = None
    # The names of the config_fields that authentication added (not declared by the class).
    _authentication_fields: ClassVar[frozenset[str]] = frozenset()
    #: The service's :class:`~patchbay.core.declaration.ServiceDeclaration`, if the class
    #: takes the attributes above from one (patchbay's own clients do) instead of setting them.
    declaration: ClassVar[ServiceDeclaration | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("declaration") is not None:
            cls._take_declaration(cls.__dict__["declaration"])
        else:
            if "config_fields" in cls.__dict__:
                cls.config_fields = declared_fields(cls.config_fields)
            if cls.authentication is not None and cls.provider:
                # The declaration's values, named after the provider, unless the class declares
                # them itself. Those added for a parent (named after its provider) are made
                # again.
                inherited = () if "config_fields" in cls.__dict__ else cls._authentication_fields
                declared = {
                    name: field
                    for name, field in cls.config_fields.items()
                    if name not in inherited
                }
                cls.config_fields, cls._authentication_fields = with_authentication_fields(
                    cls.provider, cls.authentication, declared
                )
        if "provider" in cls.__dict__ and cls.provider:
            registry.register(cls)

    @classmethod
    def _take_declaration(cls, declaration: ServiceDeclaration) -> None:
        # One source of truth: a class declares its service either way, never both.
        both = [name for name in DECLARED_NAMES if name in cls.__dict__]
        if both:
            raise TypeError(
                f"{cls.__name__} sets declaration and {', '.join(both)}: set them in the "
                "declaration only."
            )
        for name in DECLARED_NAMES:
            setattr(cls, name, getattr(declaration, name))
        cls._authentication_fields = declaration.authentication_fields

    def __init__(
        self,
        debug_mode: bool | None = None,
        *,
        user: Any = None,
        tenant: object = UNSET,
        **overrides: Any,
    ) -> None:
        # Making a client reads no database: clients are made at import time, before
        # migrate and in tests that patch their methods. The configuration (which may
        # come from an ExternalService row) is resolved on first use; simulating or not
        # depends on settings only.
        self._overrides = {name: value for name, value in overrides.items() if value is not None}
        if self._overrides:  # none given (a view's S3Client()): nothing to check
            check_overrides(type(self), self._overrides)
        self.debug_mode: bool = should_simulate(debug_mode)
        #: The user a per-user OAuth2 client acts for (see :doc:`/oauth2`).
        self.user = user
        #: The tenant the client works for (see :doc:`/tenants`): the argument, else the
        #: current tenant when the client is made; "" for the site-wide configuration.
        self.tenant_key: str
        self.tenant_key, self._tenant_named = resolve_tenant_key(tenant)
        self._learned_secrets: list[str] = []

    # Django's cached_property, not functools': before Python 3.12 that one takes a lock
    # on every first read, which is every call of a client made per call (a view's).
    @cached_property
    def config(self) -> ServiceConfig:
        """The client's configuration, resolved on first use and kept for its lifetime.

        Shared with the other clients of the same configuration for a while (see
        :func:`~patchbay.core.config.shared_config`).
        """
        return shared_config(type(self), self._overrides, self.tenant_key)

    @functools.cached_property
    def redactor(self) -> Redactor:
        """Masks this client's secret values (and :meth:`basic_auth` of them) wherever quoted.

        Also the values given to :meth:`add_secrets` (OAuth2 tokens).
        """
        return Redactor(
            [*self.config.secret_values(), *self._learned_secrets],
            basic_auth=self.basic_auth(),
        )

    def add_secrets(self, *values: str) -> None:
        """Mask ``values`` too wherever this client's results and logs would quote them.

        For secrets that are no configuration value, such as the OAuth2 tokens
        the client sends.
        """
        new = [value for value in values if value and value not in self._learned_secrets]
        if new:
            self._learned_secrets.extend(new)
            self.__dict__.pop("redactor", None)  # made again, with them, when next used

    def __repr__(self) -> str:
        mode = "simulated" if self.debug_mode else "live"
        user = f" user={getattr(self.user, 'pk', self.user)}" if self.user is not None else ""
        tenant = f" tenant={self.tenant_key!r}" if self.tenant_key else ""
        return f"<{type(self).__name__} provider={self.provider!r} {mode}{tenant}{user}>"

    @functools.cached_property
    def breaker(self) -> CircuitBreaker:
        """The service's circuit breaker, made on first use.

        Simulated and local operations (presigning) never need it.
        """
        return CircuitBreaker(self.scope)

    @functools.cached_property
    def throttle(self) -> Throttle:
        """The service's outbound rate limit (see :ref:`outbound-rate-limits`), made on first use.

        Only live calls take a turn; simulated and local ones are not limited.
        """
        return Throttle(self.provider, tenant_key=self.tenant_key)

    @property
    def scope(self) -> str:
        """The name of the client's breaker: the provider, per tenant (``stripe@42``).

        The site's is the provider's name, as before tenants, so turning tenancy
        on keeps the site's breaker state.
        """
        return f"{self.provider}@{self.tenant_key}" if self.tenant_key else self.provider

    @classmethod
    def label(cls) -> str:
        """The service's human name, for messages."""
        return declared_label(cls)

    @classmethod
    def sdk_installed(cls) -> bool:
        """Whether the provider SDK (and what the authentication needs) can be imported."""
        return cls.missing_sdk() is None

    @classmethod
    def missing_sdk(cls) -> SDKNotInstalled | None:
        """The error naming the module live calls need that is not installed, if any."""
        return declared_missing_sdk(cls)

    def sdk(self) -> Any:
        """The provider SDK module, imported on first use."""
        if not self.sdk_module:
            raise TypeError(f"{type(self).__name__} declares no sdk_module.")
        return import_sdk(self.sdk_module, self.extra or self.provider)

    # -- the one code path every operation goes through -----------------------------

    @overload
    def call(self, request: Request[SuccessT], /) -> SuccessT | Failure: ...

    @overload
    def call(
        self,
        request: str,
        live: Callable[[], Mapping[str, Any]],
        /,
        *,
        simulate: Callable[[], Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        private: Mapping[str, Any] | None = None,
        local: bool = False,
    ) -> Result: ...

    def call(
        self,
        request: Request[Any] | str,
        live: Callable[[], Mapping[str, Any]] | None = None,
        /,
        *,
        simulate: Callable[[], Mapping[str, Any]] | None = None,
        params: Mapping[str, Any] | None = None,
        private: Mapping[str, Any] | None = None,
        local: bool = False,
    ) -> Any:
        """Run ``request`` live or simulated and return its result dict.

        ``request.params()`` describes it: redacted, it becomes the log's
        request summary; in simulation it is stored, unredacted, in the outbox
        together with ``request.private()`` (e.g. a message body), which is
        never logged.

        ``call(operation, live, simulate=..., params=..., private=..., local=...)``
        is the same for an operation without input to validate, given as two
        callables returning its data (see
        :class:`~patchbay.core.request.CallableRequest`).

        A local request (``request.local``) is computed on this machine and
        never reaches the service (presigning a URL). It neither consults nor
        feeds the circuit breaker and the health counters, which are about the
        service answering, and only its failures are stored as IntegrationLog
        rows: a row for every signature would cost a database commit each, for
        no exchange with anyone. It is logged on the ``patchbay`` logger like
        any call.
        """
        if isinstance(request, str):
            if live is None or simulate is None:
                raise TypeError("call(operation, live, simulate=...) needs both callables.")
            request = CallableRequest(request, live, simulate, params, private, local)
        return self._call(request)

    def _call(self, request: Request[Any], *, tenant_checked: bool = False) -> Any:
        """:meth:`call` of a request; ``tenant_checked``: :meth:`perform` refused it already."""
        started = time.perf_counter()
        try:
            if self._tenant_named:
                with use_tenant(self.tenant_key):
                    outcome = self._run(request, tenant_checked=tenant_checked)
            else:  # no tenant to make current: no context manager's calls, every signature
                outcome = self._run(request, tenant_checked=tenant_checked)
        except ServiceError as exc:
            outcome = CallOutcome(self._failure(exc), status_code=exc.status)
        except SDKNotInstalled as exc:  # simulating needed an SDK (e.g. phonenumbers)
            outcome = CallOutcome(failure(str(exc), error_code="sdk_missing"))
        self._record(request.operation, request.params, outcome, started, local=request.local)
        return outcome.result

    def perform(
        self, build: Callable[P, Request[SuccessT]], /, *args: P.args, **kwargs: P.kwargs
    ) -> SuccessT | Failure:
        """Build a request with ``build(*args, **kwargs)``, then :meth:`call` it.

        ``build`` is a classmethod of a :class:`~patchbay.core.request.Request`
        subclass. A :class:`ServiceError` it raises refuses the call before
        anything is sent, live or simulated: the refusal is recorded under the
        request's ``operation`` (without a request summary: the input did not
        make one), but not counted against the service's health. Any other
        exception from ``build`` is a check it lacks: the call is refused with
        ``unexpected_error`` and the traceback logged, as a last resort.
        """
        started = time.perf_counter()
        operation = getattr(getattr(build, "__self__", None), "operation", "") or build.__name__
        # Before building: builders read the configuration, which is the tenant's to say.
        tenant_refused = self._tenant_refusal()
        if tenant_refused is not None:
            self._record(operation, dict, CallOutcome(tenant_refused), started)
            return tenant_refused
        try:
            request = build(*args, **kwargs)
        except ServiceError as exc:
            refusal, status = self._failure(exc), exc.status
        except SDKNotInstalled as exc:  # validation needed an SDK (e.g. phonenumbers)
            refusal, status = failure(str(exc), error_code="sdk_missing"), None
        except Exception as exc:  # a check build() lacks: still a result, and a traceback
            logger.exception("%s.%s: building the request raised", self.provider, operation)
            refusal = failure(
                self.redactor.text(f"Unexpected error preparing {operation}: {type(exc).__name__}"),
                error_code="unexpected_error",
            )
            status = None
        else:
            done: SuccessT | Failure = self._call(request, tenant_checked=True)
            return done
        self._record(operation, dict, CallOutcome(refusal, status_code=status), started)
        return refusal

    def _record(
        self,
        operation: str,
        params: Callable[[], Mapping[str, Any]],
        outcome: CallOutcome,
        started: float,
        *,
        local: bool = False,
    ) -> None:
        """Log and count the call; store it unless it is a successful local one.

        ``params`` makes the request's summary, called only when the record
        quotes it: a successful local call (a signature) is just logged and
        counted, and its summary, masking and service name cost every
        signature microseconds.
        """
        result = outcome.result
        store = not (local and result["success"])
        quoted = store or outcome.health is not None
        record_call(
            provider=self.provider,
            operation=operation,
            success=result["success"],
            duration_ms=round((time.perf_counter() - started) * 1000),
            simulated=bool(result.get("simulated", False)),
            error=str(result.get("error", "")),
            error_code=str(result.get("error_code", "")),
            status_code=outcome.status_code,
            summary=self.redactor.data(params()) if quoted else None,
            health=outcome.health,
            service_name=self.label() if quoted else "",
            store=store,
            tenant_key=self.tenant_key,
        )

    def _tenant_refusal(self) -> Failure | None:
        """``tenant_required``, when nobody named the tenant this call is for."""
        if not tenant_missing(self._tenant_named):
            return None
        return failure(
            f"No tenant given for this {self.label()} call: pass tenant=..., run it "
            "inside patchbay.tenancy.use_tenant(...), or pass tenant=SITE for the "
            "site-wide configuration.",
            error_code="tenant_required",
        )

    def _run(self, request: Request[Any], *, tenant_checked: bool = False) -> CallOutcome:
        refused = None if tenant_checked else self._tenant_refusal()
        if refused is not None:
            return CallOutcome(refused)
        if self.config.disabled_in_admin or (self.config.disabled_reason and not self.debug_mode):
            return CallOutcome(failure(self.config.disabled_reason, error_code="service_disabled"))
        if self.config.credentials_unreadable:
            # Simulating too: the row says what the service is, and nobody notices a
            # broken key until the simulation is switched off.
            return CallOutcome(
                failure(self.decryption_failed_message(), error_code="decryption_failed")
            )
        if self.debug_mode:
            return self._run_simulated(request)
        missing_sdk = self.missing_sdk()
        if missing_sdk is not None:
            return CallOutcome(failure(str(missing_sdk), error_code="sdk_missing"))
        missing = self.config.missing()
        if missing:
            return CallOutcome(
                failure(
                    f"{self.label()} is not configured: missing {', '.join(missing)} "
                    f"(set {', '.join(self.setting_names(missing))} or configure it in the "
                    "admin).",
                    error_code="not_configured",
                )
            )
        if request.local:
            return self._run_local(request)
        return self._run_live(request)

    def _run_simulated(self, request: Request[Any]) -> CallOutcome:
        try:
            if self.authentication is not None and not request.local:
                self.authentication.check_simulated(self, request.operation)
            result = request.simulate(self)
        except ServiceError as exc:
            return CallOutcome(self._failure(exc), status_code=exc.status)
        except SDKNotInstalled:
            raise
        except Exception as exc:  # e.g. a missing local file: the same error as live
            error = self.translate_exception(exc)
            return CallOutcome(self._failure(error), status_code=error.status)
        data = {key: value for key, value in result.items() if key != "success"}
        outbox.append(
            SimulatedCall(
                self.provider, request.operation, {**request.params(), **request.private(), **data}
            )
        )
        console.info(
            "[simulated] %s.%s %s",
            self.provider,
            request.operation,
            self.redactor.data(request.params()),
        )
        # Not counted, but an UNKNOWN service reads HEALTHY: the integration works.
        health = None if request.local else HealthOutcome(success=True, simulated=True)
        return CallOutcome({**result, "simulated": True}, health=health)

    def _run_live(self, request: Request[Any]) -> CallOutcome:
        allowed, breaker_clean = self.breaker.admit()
        if not allowed:
            return CallOutcome(
                failure(
                    f"{self.label()} is failing; calls are paused for up to "
                    f"{int(self.breaker.cooldown)} s by the circuit breaker.",
                    error_code="circuit_open",
                    retryable=True,
                )
            )
        wait = self.throttle.acquire()
        if wait is not None:
            # Not sent: neither the breaker nor the health counters hear of it.
            return CallOutcome(self._rate_limited(wait))
        raised: Exception
        try:
            result = request.send(self)
        except ServiceError as exc:
            error = raised = exc
        except Exception as exc:  # SDK exceptions never reach callers.
            raised, error = exc, self.translate_exception(exc)
            if error.error_code == "unexpected_error":
                logger.exception("%s.%s raised unexpectedly", self.provider, request.operation)
        else:
            if not breaker_clean:  # else there is nothing to reset: spare the cache write
                self.breaker.record_success()
            # Recorded with the IntegrationLog row, in one transaction (see call()).
            return CallOutcome(result, health=HealthOutcome(success=True))
        if error.retryable:
            self.breaker.record_failure()
        elif not breaker_clean:
            self.breaker.record_success()  # the service answered
        failed = self._failure(error)
        if error.error_code == "rate_limited":
            hold = self.retry_after(raised)
            if hold is None or hold > 0:
                failed = self._held(failed, hold)
        health = HealthOutcome(
            success=False,
            service_fault=error.retryable or error.error_code in SERVICE_FAULT_CODES,
            error=failed["error"],
        )
        return CallOutcome(failed, status_code=error.status, health=health)

    def _run_local(self, request: Request[Any]) -> CallOutcome:
        # Like a live call, without the breaker and the health bookkeeping.
        try:
            return CallOutcome(request.send(self))
        except ServiceError as exc:
            error = exc
        except Exception as exc:
            error = self.translate_exception(exc)
            if error.error_code == "unexpected_error":
                logger.exception("%s.%s raised unexpectedly", self.provider, request.operation)
        return CallOutcome(self._failure(error), status_code=error.status)

    def _held(self, failed: Failure, seconds: float | None) -> RateLimitedFailure:
        """The provider's own 429: every process holds off, and the caller learns how long."""
        self.throttle.hold(seconds)
        held: RateLimitedFailure = {
            **failed,
            "retry_after": max(1, math.ceil(seconds or DEFAULT_HOLD)),
        }
        return held

    def _rate_limited(self, wait: int) -> RateLimitedFailure:
        """A call refused before it was sent: its provider's turn is more than a wait away."""
        rate = self.throttle.rate
        limit = f"its outbound rate limit ({rate}) is reached or it" if rate else "it"
        refused: RateLimitedFailure = {
            **failure(
                f"Not sent to {self.label()}: {limit} asked patchbay to slow down; try again "
                f"in {wait} seconds.",
                error_code="rate_limited",
                retryable=True,
            ),
            "retry_after": wait,
        }
        return refused

    def _failure(self, error: ServiceError) -> Failure:
        return failure(
            self.redactor.text(error.message),
            error_code=error.error_code,
            retryable=error.retryable,
        )

    @classmethod
    def decryption_failed_message(cls) -> str:
        """The error of a call refused because the stored credentials do not decrypt."""
        return (
            f"The {cls.label()} credentials stored in the admin (ExternalService) cannot be "
            "decrypted with any configured key (patchbay.E024). Put the key they were "
            "encrypted with back (the old SECRET_KEY into SECRET_KEY_FALLBACKS, or the old "
            "key into PATCHBAY_ENCRYPTION_KEYS after the new one) and run manage.py "
            "patchbay_rotate_keys, or enter the credentials again in the admin."
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

    def retry_after(self, exc: Exception) -> float | None:
        """The seconds a ``rate_limited`` answer asked to wait, read from what the call raised.

        ``exc`` is the SDK's exception (or the :class:`ServiceError` a client
        raised itself); the answer puts the provider on hold in every process
        (see :ref:`outbound-rate-limits`). The base reads
        :attr:`ServiceError.retry_after <patchbay.exceptions.ServiceError>`;
        a subclass whose SDK keeps the answer's headers reads them with
        :func:`patchbay.core.throttle.retry_after`. None when the answer does
        not say: the hold is then :data:`~patchbay.core.throttle.DEFAULT_HOLD`.
        0 when the answer is about a limit narrower than the provider's (one
        phone number's): no hold, and no ``retry_after`` in the result.
        """
        return exc.retry_after if isinstance(exc, ServiceError) else None

    def basic_auth(self) -> list[tuple[str, str]]:
        """The ``(user, password)`` pairs this client sends as HTTP Basic credentials.

        Their Base64 form quotes neither, so :attr:`redactor` masks it only when
        told. Those of a :class:`~patchbay.core.auth.BasicAuth` declaration by
        default; Twilio's client sends its SID and auth token.
        """
        if self.authentication is None:
            return []
        return self.authentication.basic_auth(self.config)

    @functools.cached_property
    def http_session(self) -> requests.Session:
        """The ``requests`` session of :meth:`http`, made on first use.

        One per client, so its calls reuse connections. It retries only
        failed connections (``PATCHBAY_MAX_RETRIES`` times), never a request
        the service may have received.
        """
        transport = import_sdk("requests", self.extra or self.provider)
        session: requests.Session = transport.Session()
        adapter = transport.adapters.HTTPAdapter(max_retries=conf.MAX_RETRIES)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def http(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send an HTTP request with the declared :attr:`authentication`; the response.

        ``kwargs`` are those of ``requests.Session.request``; ``timeout``
        defaults to ``PATCHBAY_TIMEOUT``. An OAuth2 client sends a valid access
        token (refreshed first when about to expire); an answer of 401 gets one
        refresh and one retry. A status of 4xx or 5xx is returned, not raised:
        call ``response.raise_for_status()`` where the client maps errors. It
        raises :exc:`~patchbay.exceptions.ServiceError` when there is no token
        to send (``not_connected``, ``reauthorization_required``); called from
        a request's ``send``, that becomes the operation's failed result.
        """
        kwargs.setdefault("timeout", conf.TIMEOUT)

        def send(prepared: dict[str, Any]) -> requests.Response:
            return self.http_session.request(method, url, **prepared)

        if self.authentication is None:
            return send(kwargs)
        return self.authentication.send(self, send, kwargs)

    def probe(self) -> Mapping[str, Any]:
        """Make the cheapest live call that proves the service is reachable."""
        raise ServiceError(f"{self.label()} has no health probe.", error_code="not_supported")

    def check_health(self) -> HealthCheckResult:
        """Run the health probe as an operation (logged, counted, simulated)."""
        return self.call(HealthCheck())


class HealthCheck(Request[HealthCheckSuccess]):
    """The health probe as an operation: :meth:`BaseClient.probe`, or healthy when simulated."""

    operation = "health_check"

    def send(self, client: BaseClient) -> HealthCheckSuccess:
        # The probe's answer as it is: {"healthy": True} and whatever else it tells.
        return cast("HealthCheckSuccess", {"success": True, **client.probe()})

    def simulate(self, client: BaseClient) -> HealthCheckSuccess:
        return {"success": True, "healthy": True}
