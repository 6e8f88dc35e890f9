"""What a delivery must be for the database to store it: checked ids, cleaned payloads.

Every endpoint passes its verified delivery through :func:`storable` before
the insert, so a value PostgreSQL refuses is a 400 naming it rather than a
``DataError`` and a 500 the provider retries for days. SQLite stores most of
these values without complaint: the checks are the same on every database.
"""

from __future__ import annotations

import math
import re
from typing import Any

from patchbay.core.arguments import UNSTORABLE, clean_text
from patchbay.exceptions import WebhookVerificationError
from patchbay.webhooks.verification import VerifiedDelivery

#: ``WebhookEvent.event_id`` and ``event_type`` are ``varchar(255)``.
MAX_KEY_LENGTH = 255
#: Deeper than any provider's event; keeps the JSON encoder and jsonb far from their limits.
MAX_DEPTH = 100
# Also every other C0 and C1 control: an id is never meant to hold one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def refused(reason: str) -> WebhookVerificationError:
    """The refusal of an authentic delivery that holds what cannot be stored (400)."""
    return WebhookVerificationError(reason, error_code="invalid_payload")


def event_key(value: object, what: str, *, max_length: int = MAX_KEY_LENGTH) -> str:
    """``value`` if it is a storable id or type: a non-empty string, short, no control character.

    ``what`` names it in the refusal ("The event id"). A number or an object
    is refused, not stored as its ``str()``.
    """
    if not isinstance(value, str):
        raise refused(f"{what} is not a string.")
    if not value:
        raise refused(f"{what} is empty.")
    if len(value) > max_length:
        raise refused(f"{what} is longer than {max_length} characters.")
    if _CONTROL.search(value):
        raise refused(f"{what} holds a control character.")
    return value


def clean_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with NULs and lone surrogates replaced in every key and string, in place.

    Legitimate content may hold them (an SMS body, a customer's name), so it
    is kept, changed as little as can be. Raises a refusal for a float JSON
    cannot represent (``NaN``, ``Infinity``, ``1e999``: jsonb refuses them)
    or nesting deeper than :data:`MAX_DEPTH`. Iterative: no recursion limit.
    """
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise refused(f"The body is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, dict):
            if any(UNSTORABLE.search(key) for key in node):
                renamed = {clean_text(key): value for key, value in node.items()}
                node.clear()
                node.update(renamed)
            entries: Any = node.items()
        else:
            entries = enumerate(node)
        for key, value in list(entries):
            if isinstance(value, str):
                if UNSTORABLE.search(value):
                    node[key] = clean_text(value)
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))
            elif isinstance(value, float) and not math.isfinite(value):
                raise refused("The body holds a number JSON cannot store (NaN or infinite).")
    return payload


def storable(delivery: VerifiedDelivery) -> VerifiedDelivery:
    """``delivery`` checked and cleaned for the insert; a refusal (400) naming what is wrong."""
    event_key(delivery.event_id, "The event id")
    if delivery.event_type:
        event_key(delivery.event_type, "The event type")
    if not isinstance(delivery.payload, dict):
        raise refused("The event is not a JSON object.")
    return delivery._replace(payload=clean_payload(delivery.payload))
