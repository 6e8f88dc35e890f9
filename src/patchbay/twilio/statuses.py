"""Twilio message statuses and the order they may move in.

Callbacks arrive late, twice or out of order; a message only ever moves
forward: queued < sending < sent < delivered / undelivered / failed, and
delivered → read (WhatsApp).
"""

from __future__ import annotations

PENDING = "pending"  # saved, not yet accepted by Twilio
FINAL = ("delivered", "undelivered", "failed", "read", "canceled", "received")

RANK = {
    PENDING: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
    "receiving": 1,
    "received": 5,
}

# When each status was reached is kept in its own column.
TIMESTAMP_FIELD = {
    "queued": "queued_at",
    "sent": "sent_at",
    "delivered": "delivered_at",
    "undelivered": "failed_at",
    "failed": "failed_at",
    "read": "read_at",
}


def may_precede(status: str) -> list[str]:
    """The statuses a message may be in for ``status`` to be applied."""
    rank = RANK.get(status)
    if rank is None:
        return []
    earlier = [name for name, other in RANK.items() if other < rank]
    if status == "read":  # only a delivered message is read
        earlier = [name for name in earlier if name not in ("undelivered", "failed", "canceled")]
    return earlier
