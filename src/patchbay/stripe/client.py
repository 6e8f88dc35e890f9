"""``StripeClient``: the spec's Stripe operations on the SDK's object API.

Uses ``stripe.StripeClient`` (never the global ``stripe.api_key``) with an
explicit timeout, ``max_network_retries`` (the SDK then sends idempotency keys,
so a retried POST cannot charge twice) and a pinned API version. SDK objects
are converted to plain dicts before they reach callers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from patchbay.conf import conf
from patchbay.core.arguments import (
    json_value,
    mapping,
    optional_integer,
    optional_text,
    text,
)
from patchbay.core.client import BaseClient
from patchbay.core.request import Request, SuccessT
from patchbay.core.simulation import simulation_secrets_accepted
from patchbay.core.throttle import retry_after
from patchbay.exceptions import ServiceError, WebhookVerificationError
from patchbay.results import Result, failure, success
from patchbay.stripe import simulation
from patchbay.stripe.results import (
    CheckoutSessionResult,
    CheckoutSessionSuccess,
    CustomerResult,
    CustomerSuccess,
    PortalSessionResult,
    PortalSessionSuccess,
    RefundResult,
    RefundSuccess,
    SubscriptionResult,
    SubscriptionSuccess,
)
from patchbay.stripe.service import SERVICE
from patchbay.stripe.signature import StripeWebhookVerifier
from patchbay.tenancy import UNSET

# (stripe exception class name, error_code, retryable)
_ERRORS = (
    ("CardError", "card_error", False),
    ("RateLimitError", "rate_limited", True),
    ("APIConnectionError", "connection_error", True),
    ("AuthenticationError", "authentication_error", False),
    ("PermissionError", "permission_error", False),
    ("IdempotencyError", "idempotency_error", False),
    ("InvalidRequestError", "invalid_request", False),
)


def webhook_secrets(value: Any) -> list[str]:
    """``STRIPE_WEBHOOK_SECRET`` as a list: one secret, a list, or comma-separated."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [secret.strip() for secret in value if secret and secret.strip()]


@functools.lru_cache(maxsize=16)
def _sdk_client(
    api_key: str, api_version: str | None, api_base: str | None, timeout: float, retries: int
) -> Any:
    # One SDK client (and its HTTP connection pool) per configuration and process.
    import stripe

    return stripe.StripeClient(
        api_key,
        stripe_version=api_version,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=retries,
        http_client=stripe.new_default_http_client(timeout=timeout),
    )


def to_dict(obj: Any) -> dict[str, Any]:
    """A plain, JSON-safe dict from a StripeObject (or anything dict-like)."""
    # An object the API just answered with keeps the answer's JSON: parsing that
    # again is several times cheaper than converting the object back.
    body = getattr(getattr(obj, "last_response", None), "body", None)
    if isinstance(body, str):
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            return parsed
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict(recursive=True)
    result: dict[str, Any] = json.loads(json.dumps(obj, default=str))
    return result


class StripeClient(BaseClient):
    """Stripe payments, customers, subscriptions, refunds and webhook verification."""

    declaration = SERVICE

    def __init__(
        self,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        debug_mode: bool | None = None,
        *,
        tenant: object = UNSET,
    ) -> None:
        super().__init__(
            debug_mode=debug_mode, tenant=tenant, api_key=api_key, webhook_secret=webhook_secret
        )

    @property
    def stripe(self) -> Any:
        """The configured ``stripe.StripeClient``."""
        self.sdk()  # a clear SDKNotInstalled rather than an ImportError
        return _sdk_client(
            self.config["api_key"],
            self.config.get("api_version"),
            self.config.get("api_base"),
            conf.TIMEOUT,
            conf.MAX_RETRIES,
        )

    # -- the spec's methods -------------------------------------------------------------

    def create_checkout_session(
        self, price_id: str, success_url: str, cancel_url: str, **kwargs: Any
    ) -> CheckoutSessionResult:
        """A Checkout Session; ``result["session"]["url"]`` is where to send the customer.

        kwargs: ``customer_email``, ``mode`` (payment/subscription/setup),
        ``payment_method_types``, ``metadata``, ``customer_id``, and any other
        Checkout Session parameter (e.g. ``client_reference_id``).
        """
        return self.perform(CreateCheckoutSession.build, price_id, success_url, cancel_url, kwargs)

    def create_customer(
        self,
        email: str,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> CustomerResult:
        return self.perform(CreateCustomer.build, email, name, metadata, kwargs)

    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        trial_days: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> SubscriptionResult:
        return self.perform(
            CreateSubscription.build, customer_id, price_id, trial_days, metadata, kwargs
        )

    def cancel_subscription(
        self, subscription_id: str, at_period_end: bool = False, **kwargs: Any
    ) -> SubscriptionResult:
        """Cancel now, or at the end of the paid period (the subscription stays active)."""
        return self.perform(CancelSubscription.build, subscription_id, at_period_end, kwargs)

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionResult:
        return self.perform(RetrieveSubscription.build, subscription_id)

    def create_billing_portal_session(
        self, customer_id: str, return_url: str
    ) -> PortalSessionResult:
        """A Customer Portal session; ``result["session"]["url"]`` lets the customer self-serve."""
        return self.perform(CreateBillingPortalSession.build, customer_id, return_url)

    def create_refund(
        self,
        payment_intent_id: str | None = None,
        charge_id: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RefundResult:
        """Refund a payment (all of it unless ``amount``, in the smallest currency unit)."""
        return self.perform(
            CreateRefund.build, payment_intent_id, charge_id, amount, reason, metadata
        )

    def webhook_verifier(self) -> StripeWebhookVerifier:
        """The verifier of this client's webhook secrets, which the endpoint uses too.

        Without ``STRIPE_WEBHOOK_SECRET`` it accepts what simulation signs,
        only while this client simulates with ``DEBUG`` on (see
        :func:`~patchbay.core.simulation.simulation_secrets_accepted`).

        Made once per configuration (the endpoint asks for it on every delivery)
        and simulation decision: dropped with the configuration when a setting
        changes or an ExternalService row is saved or deleted.
        """
        simulating = self.debug_mode
        # Asked each time: DEBUG and the test environment may change without a signal.
        accepted = simulation_secrets_accepted(simulating)
        return self.config.derived(
            f"webhook_verifier:{simulating}:{accepted}",
            lambda: StripeWebhookVerifier(
                webhook_secrets(self.config.get("webhook_secret")),
                tolerance=conf.STRIPE_WEBHOOK_TOLERANCE,
                simulating=simulating,
            ),
        )

    def verify_webhook_signature(self, payload: bytes | str, signature: str | None) -> Result:
        """Verify a ``Stripe-Signature`` header; ``verified`` and the parsed ``event``.

        Verifies with :meth:`webhook_verifier`, as patchbay's endpoint does: each
        configured secret (rotation) with the SDK's own verifier (patchbay's
        implementation of the same scheme when the SDK is not installed) and
        ``STRIPE_WEBHOOK_TOLERANCE`` seconds of clock tolerance. A refusal's
        ``error`` is the endpoint's, its ``error_code`` ``invalid_signature``,
        ``invalid_payload`` or ``not_configured``. Local: nothing is sent, so
        it is not recorded as a call (the webhook view records every delivery).
        """
        try:
            delivery = self.webhook_verifier().verify_signature(payload, signature)
        except WebhookVerificationError as refused:
            return failure(
                self.redactor.text(refused.reason),
                error_code=refused.error_code,
                verified=False,
                event=None,
            )
        return success(verified=True, event=delivery.payload)

    # -- BaseClient hooks -----------------------------------------------------------------

    def probe(self) -> Mapping[str, Any]:
        self.stripe.v1.balance.retrieve()
        return {"healthy": True}

    def translate_exception(self, exc: Exception) -> ServiceError:
        import stripe

        if isinstance(exc, stripe.StripeError):
            status = exc.http_status
            message = exc.user_message or str(exc) or type(exc).__name__
            for class_name, code, retryable in _ERRORS:
                if isinstance(exc, getattr(stripe, class_name)):
                    if class_name in {"CardError", "InvalidRequestError"} and exc.code:
                        code = exc.code
                    return ServiceError(
                        message,
                        error_code=code,
                        retryable=retryable,
                        status=status,
                        response=exc.json_body,
                    )
            return ServiceError(
                message,
                error_code="api_error",
                retryable=status is None or status >= 500,
                status=status,
                response=exc.json_body,
            )
        return super().translate_exception(exc)

    def retry_after(self, exc: Exception) -> float | None:
        # The SDK keeps the answer's headers on its exception.
        return retry_after(getattr(exc, "headers", None)) or super().retry_after(exc)


# -- the requests of the operations above --------------------------------------------------


#: The longest id or URL patchbay sends Stripe (Stripe's own ids are far shorter).
MAX_ID_LENGTH = 255
MAX_URL_LENGTH = 2048


def stripe_id(value: object, name: str) -> str:
    return text(value, name, max_length=MAX_ID_LENGTH)


def _params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Stripe parameters, without the ``None`` ones, if they are JSON."""
    return {name: json_value(value, name) for name, value in fields.items() if value is not None}


def _metadata(value: object) -> dict[str, Any]:
    return dict(json_value(mapping(value, "metadata"), "metadata"))


class StripeRequest(Request[SuccessT]):
    """A call with Stripe's own parameters, logged as they are (redacted)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.stripe_params = params

    def params(self) -> Mapping[str, Any]:
        return self.stripe_params


class CreateCheckoutSession(StripeRequest[CheckoutSessionSuccess]):
    operation = "create_checkout_session"

    @classmethod
    def build(
        cls, price_id: object, success_url: object, cancel_url: object, fields: Mapping[str, Any]
    ) -> CreateCheckoutSession:
        """``fields``: the method's kwargs; the Checkout Session's own are passed through."""
        kwargs = dict(fields)
        mode = text(kwargs.pop("mode", None) or "payment", "mode", max_length=32)
        customer_id = optional_text(kwargs.pop("customer_id", None), "customer_id")
        customer_email = optional_text(kwargs.pop("customer_email", None), "customer_email")
        quantity = optional_integer(kwargs.pop("quantity", None), "quantity", minimum=1)
        params: dict[str, Any] = {
            "mode": mode,
            "success_url": text(success_url, "success_url", max_length=MAX_URL_LENGTH),
            "cancel_url": text(cancel_url, "cancel_url", max_length=MAX_URL_LENGTH),
            **_params(kwargs),
        }
        if mode != "setup":
            item = {"price": stripe_id(price_id, "price_id"), "quantity": quantity or 1}
            params["line_items"] = [item]
        if customer_id:
            params["customer"] = customer_id
        elif customer_email:
            params["customer_email"] = customer_email
        return cls(params)

    def send(self, client: StripeClient) -> CheckoutSessionSuccess:
        session = client.stripe.v1.checkout.sessions.create(params=self.stripe_params)
        return {"success": True, "session": to_dict(session)}

    def simulate(self, client: StripeClient) -> CheckoutSessionSuccess:
        session = simulation.checkout_session(self.stripe_params, client.tenant_key)
        return {"success": True, "session": session}


class CreateCustomer(StripeRequest[CustomerSuccess]):
    operation = "create_customer"

    @classmethod
    def build(
        cls, email: object, name: object, metadata: object, fields: Mapping[str, Any]
    ) -> CreateCustomer:
        params = {
            "email": optional_text(email, "email", max_length=512),
            "name": optional_text(name, "name", max_length=256),
            "metadata": _metadata(metadata),
            **_params(fields),
        }
        return cls({key: value for key, value in params.items() if value is not None})

    def send(self, client: StripeClient) -> CustomerSuccess:
        customer = client.stripe.v1.customers.create(params=self.stripe_params)
        return {"success": True, "customer": to_dict(customer)}

    def simulate(self, client: StripeClient) -> CustomerSuccess:
        return {"success": True, "customer": simulation.customer(self.stripe_params)}


class CreateSubscription(StripeRequest[SubscriptionSuccess]):
    operation = "create_subscription"

    @classmethod
    def build(
        cls,
        customer_id: object,
        price_id: object,
        trial_days: object,
        metadata: object,
        fields: Mapping[str, Any],
    ) -> CreateSubscription:
        params: dict[str, Any] = {
            "customer": stripe_id(customer_id, "customer_id"),
            "items": [{"price": stripe_id(price_id, "price_id")}],
            "metadata": _metadata(metadata),
            **_params(fields),
        }
        days = optional_integer(trial_days or None, "trial_days", minimum=1, maximum=730)
        if days:
            params["trial_period_days"] = days
        return cls(params)

    def send(self, client: StripeClient) -> SubscriptionSuccess:
        subscription = client.stripe.v1.subscriptions.create(params=self.stripe_params)
        return {"success": True, "subscription": to_dict(subscription)}

    def simulate(self, client: StripeClient) -> SubscriptionSuccess:
        return {"success": True, "subscription": simulation.subscription(self.stripe_params)}


class CancelSubscription(Request[SubscriptionSuccess]):
    """Cancel now, or flag the subscription to end with its paid period."""

    operation = "cancel_subscription"

    def __init__(self, subscription_id: str, at_period_end: bool, extra: dict[str, Any]) -> None:
        self.subscription_id, self.at_period_end, self.extra = subscription_id, at_period_end, extra

    @classmethod
    def build(
        cls, subscription_id: object, at_period_end: object, extra: Mapping[str, Any]
    ) -> CancelSubscription:
        return cls(
            stripe_id(subscription_id, "subscription_id"), bool(at_period_end), _params(extra)
        )

    def params(self) -> Mapping[str, Any]:
        return {"subscription_id": self.subscription_id, "at_period_end": self.at_period_end}

    def send(self, client: StripeClient) -> SubscriptionSuccess:
        subscriptions = client.stripe.v1.subscriptions
        if self.at_period_end:
            obj = subscriptions.update(
                self.subscription_id, params={"cancel_at_period_end": True, **self.extra}
            )
        else:
            obj = subscriptions.cancel(self.subscription_id, params=self.extra or None)
        return {"success": True, "subscription": to_dict(obj)}

    def simulate(self, client: StripeClient) -> SubscriptionSuccess:
        subscription = simulation.canceled_subscription(
            self.subscription_id, at_period_end=self.at_period_end
        )
        return {"success": True, "subscription": subscription}


class RetrieveSubscription(Request[SubscriptionSuccess]):
    operation = "retrieve_subscription"

    def __init__(self, subscription_id: str) -> None:
        self.subscription_id = subscription_id

    @classmethod
    def build(cls, subscription_id: object) -> RetrieveSubscription:
        return cls(stripe_id(subscription_id, "subscription_id"))

    def params(self) -> Mapping[str, Any]:
        return {"subscription_id": self.subscription_id}

    def send(self, client: StripeClient) -> SubscriptionSuccess:
        subscription = client.stripe.v1.subscriptions.retrieve(self.subscription_id)
        return {"success": True, "subscription": to_dict(subscription)}

    def simulate(self, client: StripeClient) -> SubscriptionSuccess:
        subscription = simulation.subscription(
            {"customer": simulation.fake_id("cus_"), "items": []}, self.subscription_id
        )
        return {"success": True, "subscription": subscription}


class CreateBillingPortalSession(StripeRequest[PortalSessionSuccess]):
    operation = "create_billing_portal_session"

    @classmethod
    def build(cls, customer_id: object, return_url: object) -> CreateBillingPortalSession:
        return cls(
            {
                "customer": stripe_id(customer_id, "customer_id"),
                "return_url": text(return_url, "return_url", max_length=MAX_URL_LENGTH),
            }
        )

    def send(self, client: StripeClient) -> PortalSessionSuccess:
        session = client.stripe.v1.billing_portal.sessions.create(params=self.stripe_params)
        return {"success": True, "session": to_dict(session)}

    def simulate(self, client: StripeClient) -> PortalSessionSuccess:
        return {"success": True, "session": simulation.portal_session(self.stripe_params)}


class CreateRefund(StripeRequest[RefundSuccess]):
    operation = "create_refund"

    @classmethod
    def build(
        cls,
        payment_intent_id: object,
        charge_id: object,
        amount: object,
        reason: object,
        metadata: object,
    ) -> CreateRefund:
        if bool(payment_intent_id) == bool(charge_id):
            raise ServiceError(
                "Give exactly one of payment_intent_id or charge_id.", error_code="invalid_request"
            )
        params = {
            "payment_intent": optional_text(payment_intent_id, "payment_intent_id"),
            "charge": optional_text(charge_id, "charge_id"),
            "amount": optional_integer(amount, "amount", minimum=1),
            "reason": optional_text(reason, "reason", max_length=64),
            "metadata": _metadata(metadata) or None,
        }
        return cls({key: value for key, value in params.items() if value is not None})

    def send(self, client: StripeClient) -> RefundSuccess:
        refund = client.stripe.v1.refunds.create(params=self.stripe_params)
        return {"success": True, "refund": to_dict(refund)}

    def simulate(self, client: StripeClient) -> RefundSuccess:
        return {"success": True, "refund": simulation.refund(self.stripe_params)}
