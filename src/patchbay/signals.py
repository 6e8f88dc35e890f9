"""Signals patchbay sends. Connect with ``sender="<provider>"`` to filter by provider."""

from __future__ import annotations

from django.dispatch import Signal

#: A notification of every webhook event processed, sent once all its handlers
#: succeeded (``event.status`` is already ``processed``), in the event's
#: transaction; not for a failed run or a duplicate. Arguments: ``sender`` (the
#: provider name) and ``event`` (the :class:`~patchbay.models.WebhookEvent`). A
#: receiver that raises is logged and its writes are rolled back; the event
#: stays processed. Act on events with :func:`patchbay.webhooks.receiver`.
webhook_received = Signal()

#: Sent when an outbound SMS/WhatsApp message moves to a new status (from a
#: status callback or a status fetch). Arguments: ``sender`` ("twilio"),
#: ``sms`` (the :class:`~patchbay.models.SMS`) and ``status``.
sms_status_changed = Signal()

#: Sent for every inbound message stored. Arguments: ``sender`` ("twilio")
#: and ``sms`` (the inbound :class:`~patchbay.models.SMS`).
sms_received = Signal()

#: Sent for every email delivery event stored (sent, delivered, deferred,
#: bounced, complained, unsubscribed). Arguments: ``sender`` (the provider,
#: "loops") and ``event`` (the :class:`~patchbay.models.EmailEvent`).
email_event_received = Signal()

#: Sent when a service's health moves between ``healthy``, ``degraded`` and
#: ``down`` (or from ``unknown`` to ``degraded`` or ``down``: a service failing
#: from its first calls; not its first success), once the change commits, once per
#: change however many processes record calls at the same time. Arguments:
#: ``sender`` and ``provider`` (the provider name), ``old_state`` and
#: ``new_state`` (:class:`~patchbay.models.ExternalService.HealthStatus`
#: values), ``reason`` (the last failure's redacted error; empty when the
#: service is healthy again) and ``tenant_key`` (whose service it is: ``""`` for
#: the site's; see :doc:`/tenants`). Receivers run in the process that recorded the
#: calls, often patchbay's background writer thread: hand slow work to a task
#: (see :ref:`health-notifications`). A receiver that raises is logged.
service_health_changed = Signal()
