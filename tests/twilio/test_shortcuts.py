from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import responses
from django.core.management import call_command
from django.utils import timezone

from patchbay.models import SMS, IntegrationLog, PhoneOptOut
from patchbay.signals import sms_status_changed
from patchbay.twilio import shortcuts
from tests.twilio.helpers import API, TO, live_twilio, message_json, twilio_error

pytestmark = pytest.mark.django_db
__all__ = ["live_twilio"]


@pytest.mark.usefixtures("live_twilio")
class TestLive:
    @responses.activate
    def test_send_sms_is_tracked(self, django_user_model):
        user = django_user_model.objects.create_user("ada")
        responses.post(f"{API}/Messages.json", json=message_json(), status=201)
        result = shortcuts.send_sms("+1 415 555 2671", "Your order shipped", user=user)
        sms = SMS.objects.get(pk=result["sms_id"])
        assert (sms.to_number, sms.status, sms.external_id, sms.user) == (
            TO,
            "queued",
            result["sid"],
            user,
        )
        assert sms.queued_at is not None

    @responses.activate
    def test_the_destination_is_parsed_once(self, monkeypatch):
        from patchbay.twilio import numbers

        parsed = []
        normalize = numbers.normalize

        def counting(number, *args, **kwargs):
            parsed.append(number)
            return normalize(number, *args, **kwargs)

        monkeypatch.setattr(numbers, "normalize", counting)
        responses.post(f"{API}/Messages.json", json=message_json(), status=201)
        assert shortcuts.send_sms("+1 415 555 2671", "hi")["success"] is True
        assert parsed.count("+1 415 555 2671") == 1

    @responses.activate
    def test_failed_send_is_saved_with_its_error(self):
        responses.post(f"{API}/Messages.json", **twilio_error(30006, "Landline"))
        result = shortcuts.send_sms(TO, "hi")
        assert result["success"] is False
        sms = SMS.objects.get(pk=result["sms_id"])
        assert (sms.status, sms.error_code) == ("failed", "landline")
        assert "Landline" in sms.error_message

    def test_an_invalid_number_saves_no_message(self):
        # Refused before any call: nothing went out, so no row to list as "failed".
        result = shortcuts.send_sms("not-a-number", "hi")
        assert result["error_code"] == "invalid_number"
        assert "sms_id" not in result
        assert not SMS.objects.exists()
        # The refusal is still recorded as the call it would have been.
        assert IntegrationLog.objects.filter(operation="send_sms", success=False).exists()

    def test_opted_out_numbers_are_refused_without_a_row(self):
        PhoneOptOut.objects.create(phone_number=TO, keyword="STOP")
        result = shortcuts.send_sms(TO, "hi")
        assert result["error_code"] == "opted_out"
        assert "sms_id" not in result
        assert not SMS.objects.exists()

    @responses.activate
    def test_save_to_db_false(self):
        responses.post(f"{API}/Messages.json", json=message_json(), status=201)
        result = shortcuts.send_sms(TO, "hi", save_to_db=False)
        assert result["success"] is True
        assert "sms_id" not in result
        assert not SMS.objects.exists()

    @responses.activate
    def test_verification_code_is_never_stored(self):
        responses.post(f"{API}/Messages.json", json=message_json(), status=201)
        result = shortcuts.send_verification_code(TO, "493817")
        assert result["success"] is True
        assert "493817" in responses.calls[0].request.body
        stored = json.dumps(list(SMS.objects.values()), default=str)
        stored += json.dumps(list(IntegrationLog.objects.values()), default=str)
        assert "493817" not in stored
        assert "••••••" in SMS.objects.get().body

    @responses.activate
    def test_get_sms_status_fetches_until_final(self):
        sid = "SM" + "1" * 32
        responses.post(f"{API}/Messages.json", json=message_json(sid), status=201)
        responses.get(f"{API}/Messages/{sid}.json", json=message_json(sid, "delivered"))
        sms_id = shortcuts.send_sms(TO, "hi")["sms_id"]
        changes = []
        handler = lambda sender, sms, status, **kw: changes.append(status)  # noqa: E731
        sms_status_changed.connect(handler)
        try:
            assert shortcuts.get_sms_status(sms_id)["status"] == "delivered"
            assert shortcuts.get_sms_status(sms_id)["status"] == "delivered"
        finally:
            sms_status_changed.disconnect(handler)
        assert len([c for c in responses.calls if c.request.method == "GET"]) == 1
        assert changes == ["delivered"]

    def test_get_sms_status_unknown_id(self):
        assert shortcuts.get_sms_status(12345)["error_code"] == "not_found"

    @responses.activate
    def test_reconcile_command(self):
        stuck = SMS.objects.create(to_number=TO, status="sent", external_id="SM" + "c" * 32)
        fresh = SMS.objects.create(to_number=TO, status="sent", external_id="SM" + "d" * 32)
        SMS.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
        responses.get(
            f"{API}/Messages/{stuck.external_id}.json",
            json=message_json(
                stuck.external_id, "undelivered", error_code=30003, error_message="Unreachable"
            ),
        )
        call_command("patchbay_twilio_reconcile", verbosity=0)
        stuck.refresh_from_db()
        fresh.refresh_from_db()
        assert (stuck.status, stuck.error_code) == ("undelivered", "30003")
        assert fresh.status == "sent"


class TestSimulated:
    @pytest.fixture(autouse=True)
    def _simulate(self, settings):
        settings.PATCHBAY_SIMULATE = True

    def test_simulated_flow_ends_delivered(self, caplog, patchbay_outbox):
        caplog.set_level(logging.INFO, logger="patchbay.simulation")
        result = shortcuts.send_sms(TO, "Your table is ready")
        assert result["simulated"] is True
        sms = SMS.objects.get(pk=result["sms_id"])
        assert (sms.status, sms.simulated) == ("delivered", True)
        assert sms.sent_at is not None
        assert sms.delivered_at is not None
        assert "Your table is ready" in caplog.text
        assert patchbay_outbox.filter(provider="twilio")[0].data["body"] == "Your table is ready"
        assert shortcuts.get_sms_status(sms.pk)["status"] == "delivered"

    def test_verification_code_shown_to_the_developer_never_stored(self, caplog, patchbay_outbox):
        caplog.set_level(logging.DEBUG)
        shortcuts.send_verification_code(TO, "112233")
        assert "112233" in patchbay_outbox.filter(provider="twilio")[0].data["body"]
        # Shown on the simulated console, and in no other log.
        showing = {record.name for record in caplog.records if "112233" in record.getMessage()}
        assert showing == {"patchbay.simulation"}
        assert "112233" not in SMS.objects.get().body
        assert "112233" not in json.dumps(list(IntegrationLog.objects.values()), default=str)
