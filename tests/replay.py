"""Replaying a stored webhook event the three ways an operator can (tests' helper).

Each ordering test runs once per way: the admin's "Reprocess" action, the
``patchbay_reprocess_webhooks`` command and :func:`patchbay.webhooks.reprocess`.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from patchbay.models import WebhookEvent
from patchbay.webhooks import reprocess

WAYS = ("admin", "command", "function")


@pytest.fixture(params=WAYS)
def replay(request, admin_client):
    """``replay(event_id)`` reprocesses the stored event; returns its new status."""

    def run(event_id: str) -> str:
        event = WebhookEvent.objects.get(event_id=event_id)
        if request.param == "admin":
            response = admin_client.post(
                reverse("admin:patchbay_webhookevent_changelist"),
                {"action": "reprocess_events", "_selected_action": [event.pk]},
                follow=True,
            )
            assert response.status_code == 200
        elif request.param == "command":
            call_command("patchbay_reprocess_webhooks", "--id", event_id, stdout=StringIO())
        else:
            reprocess(event)
        event.refresh_from_db()
        return event.status

    return run
