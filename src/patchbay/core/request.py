"""One operation's request, built and validated before anything is sent.

A client method builds a :class:`Request` from its arguments, parsing and
checking each one once; a :class:`~patchbay.exceptions.ServiceError` raised
while building refuses the call. :meth:`BaseClient.call
<patchbay.core.client.BaseClient.call>` then hands the request to
:meth:`Request.send` (live) or :meth:`Request.simulate`, and records it with
:meth:`Request.params`. Every value a step uses is an attribute of the
request, set when it was built: no step depends on another having run first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from patchbay.results import Result

#: A success result: a :class:`~patchbay.results.Success` TypedDict (any mapping, untyped).
SuccessT = TypeVar("SuccessT", bound=Mapping[str, Any], covariant=True)


class Request(Generic[SuccessT]):
    """Base class of the requests of a service's operations.

    ``SuccessT`` is the operation's success result: :meth:`send` and
    :meth:`simulate` return it, ``{"success": True, ...data}``; the client adds
    ``"simulated": True`` to a simulated one. Subclasses set :attr:`operation`,
    build their attributes in a classmethod (conventionally ``build``) that
    raises ``ServiceError`` for input that cannot be sent, and implement
    :meth:`send` and :meth:`simulate`, which take the client (for its SDK and
    configuration) and may raise anything: the client maps exceptions to a
    failure.
    """

    #: The operation's name in logs, ``IntegrationLog`` rows and the outbox.
    operation: str = ""
    #: Computed on this machine, never reaching the service (presigning): see
    #: :ref:`local-operations`.
    local: bool = False

    def params(self) -> Mapping[str, Any]:
        """What the request is about: redacted, the log's request summary; in the outbox as is."""
        return {}

    def private(self) -> Mapping[str, Any]:
        """Kept in the simulated outbox only, never logged (a message body, a code)."""
        return {}

    def send(self, client: Any) -> SuccessT:
        """Make the live call through ``client`` and return its success result."""
        raise NotImplementedError

    def simulate(self, client: Any) -> SuccessT:
        """Answer offline with the same keys as :meth:`send`."""
        raise NotImplementedError


class CallableRequest(Request["Result"]):
    """An operation given as two callables returning its data: ``call(operation, live, ...)``.

    For operations without input to validate (a health probe): the callables
    share no state with each other.
    """

    def __init__(
        self,
        operation: str,
        live: Callable[[], Mapping[str, Any]],
        simulate: Callable[[], Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        private: Mapping[str, Any] | None = None,
        local: bool = False,
    ) -> None:
        self.operation = operation
        self.local = local
        self._live, self._simulate = live, simulate
        self._params, self._private = dict(params or {}), dict(private or {})

    def params(self) -> Mapping[str, Any]:
        return self._params

    def private(self) -> Mapping[str, Any]:
        return self._private

    def send(self, client: Any) -> Result:
        return {"success": True, **self._live()}

    def simulate(self, client: Any) -> Result:
        return {"success": True, **self._simulate()}
