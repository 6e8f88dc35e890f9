"""What every provider's webhook verifier is: the shared base, and what it returns.

A provider's verifier (``StripeWebhookVerifier``, ``LoopsWebhookVerifier``,
``StatusCallbackVerifier``...) is made with the secrets it checks against, so
the endpoint and any client-side check (``StripeClient.verify_webhook_signature``)
run the same code and refuse a delivery for the same reason.

Simulation signs the deliveries it makes to the project's own endpoints;
without a configured secret, with a secret written in patchbay's source. The
base class decides, once for every verifier, when such a public secret may be
checked: only while :func:`~patchbay.core.simulation.simulation_secrets_accepted`
(simulating with ``DEBUG`` on, or a test run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from patchbay.core.simulation import simulation_secrets_accepted
from patchbay.exceptions import WebhookVerificationError

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = ["VerifiedDelivery", "WebhookVerificationError", "WebhookVerifier"]


class VerifiedDelivery(NamedTuple):
    """What a provider's verifier extracts from an authentic delivery."""

    event_id: str
    event_type: str
    payload: dict[str, Any]


class WebhookVerifier:
    """Decides whether a delivery comes from the provider, and which event it carries.

    Subclasses take their secrets in their constructor, pass them through
    :meth:`secrets_in_force`, and implement :meth:`verify`. A verifier never
    shows its secrets: its ``repr()`` is its class name.
    """

    #: The public secrets this provider's simulation signs with when no secret is
    #: configured. Anyone can read them, so they are checked only while
    #: :attr:`accepts_simulation_secrets`; configured by mistake, they count for
    #: nothing otherwise.
    simulation_secrets: ClassVar[tuple[str, ...]] = ()
    #: Whether the caller simulates (a client's ``debug_mode``); None: the site's
    #: decision, :func:`~patchbay.core.simulation.should_simulate`.
    simulating: bool | None = None

    @property
    def accepts_simulation_secrets(self) -> bool:
        """Whether deliveries signed with :attr:`simulation_secrets` may pass now.

        :func:`~patchbay.core.simulation.simulation_secrets_accepted`: only
        while simulating with ``DEBUG`` on (or in a test run).
        """
        return simulation_secrets_accepted(self.simulating)

    def secrets_in_force(self, *configured: str | None, fallback: bool = True) -> list[str]:
        """The secrets to check a delivery against, out of the ``configured`` ones.

        Empty values are dropped, and so are :attr:`simulation_secrets` unless
        they are accepted now. When none is left and they are accepted, the
        simulation secrets themselves (unless ``fallback`` is false, for a
        secret simulation does not sign with). An empty list means every
        delivery is refused as ``not_configured``.
        """
        accepted = self.accepts_simulation_secrets
        public = set(self.simulation_secrets)
        secrets = [str(secret) for secret in configured if secret]
        secrets = [secret for secret in secrets if accepted or secret not in public]
        if not secrets and accepted and fallback:
            secrets = list(self.simulation_secrets)
        return secrets

    @property
    def signing_secret(self) -> str | None:
        """The secret patchbay's simulation signs this provider's deliveries with.

        The first secret checked; None when none is, and simulation then
        delivers nothing (a staging site without configured secrets).
        """
        return None

    def verify(self, request: HttpRequest, body: bytes) -> VerifiedDelivery:
        """The event ``body`` carries, if the delivery is authentic and well formed.

        ``body`` is the raw body the endpoint read (at most
        :setting:`PATCHBAY_WEBHOOK_MAX_BODY_SIZE` bytes): check the signature
        of these bytes, never of a re-serialized payload. Raises
        :exc:`~patchbay.exceptions.WebhookVerificationError` with the reason
        otherwise.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
