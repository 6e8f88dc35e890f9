"""send_sms(background=True): the row in the caller's transaction, the POST after commit, once."""

from __future__ import annotations

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone

from patchbay.models import SMS
from patchbay.twilio import shortcuts
from patchbay.twilio.tasks import deliver_sms
from tests.twilio.helpers import API, TO, live_twilio, message_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_twilio")]
__all__ = ["live_twilio"]


@responses.activate
def test_the_send_waits_for_the_commit_and_happens_once(django_capture_on_commit_callbacks):
    posted = responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = shortcuts.send_sms(TO, "Your order shipped", background=True)
        assert posted.call_count == 0  # nothing before the commit
        assert SMS.objects.get(pk=result["sms_id"]).status == "pending"
    assert len(callbacks) == 1
    assert result == {
        "success": True,
        "queued": True,
        "sms_id": result["sms_id"],
        "status": "pending",
        "to": TO,
        "channel": "sms",
    }
    assert posted.call_count == 1
    sms = SMS.objects.get(pk=result["sms_id"])
    assert (sms.status, sms.external_id) == ("queued", "SM" + "1" * 32)


@responses.activate
def test_a_rollback_sends_nothing(django_capture_on_commit_callbacks):
    posted = responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                shortcuts.send_sms(TO, "Your order shipped", background=True)
                raise RuntimeError("the order failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert posted.call_count == 0
    assert not SMS.objects.exists()


@responses.activate
def test_the_setting_is_the_default(settings, django_capture_on_commit_callbacks):
    settings.PATCHBAY_SEND_IN_BACKGROUND = True
    responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert shortcuts.send_sms(TO, "hi")["queued"] is True
        assert shortcuts.send_sms(TO, "hi", background=False)["sid"]
    assert len(callbacks) == 1


@responses.activate
def test_a_retried_task_does_not_post_again(django_capture_on_commit_callbacks):
    posted = responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    deliver_sms(sms_id)  # a worker runs the job again
    assert posted.call_count == 1


@responses.activate
def test_a_message_already_sending_is_never_posted():
    posted = responses.post(f"{API}/Messages.json", json=message_json(), status=201)
    sms = SMS.objects.create(to_number=TO, body="hi", status="sending")
    deliver_sms(sms.pk)  # a worker killed after claiming it; its job runs again
    assert posted.call_count == 0
    assert SMS.objects.get(pk=sms.pk).status == "sending"


@responses.activate
def test_a_lost_answer_stays_sending_and_is_not_retried(django_capture_on_commit_callbacks):
    posted = responses.post(f"{API}/Messages.json", body=requests.ReadTimeout("read timed out"))
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.error_code) == ("sending", "outcome_unknown")
    deliver_sms(sms_id)
    assert posted.call_count == 1


def refused():
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    return requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))


def make_due(sms_id):
    SMS.objects.filter(pk=sms_id).update(next_attempt_at=timezone.now())


TOO_MANY = {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}


@pytest.mark.parametrize(
    ("failure", "error_code"),
    [
        ({"json": TOO_MANY, "status": 429}, "rate_limited"),
        ({"body": refused()}, "connection_error"),
        ({"body": requests.ConnectTimeout("connect timed out")}, "timeout"),
    ],
    ids=["429", "connection refused", "connect timeout"],
)
@responses.activate
def test_a_failure_that_sent_nothing_is_retried_with_backoff(
    failure, error_code, django_capture_on_commit_callbacks
):
    responses.post(f"{API}/Messages.json", **failure)
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.attempts, sms.error_code) == ("pending", 1, error_code)
    assert sms.next_attempt_at > timezone.now()
    deliver_sms(sms_id)  # a duplicate job before the retry is due: nothing posted
    assert len(responses.calls) == 1
    make_due(sms_id)
    responses.replace(responses.POST, f"{API}/Messages.json", json=message_json(), status=201)
    deliver_sms(sms_id)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.error_code) == ("queued", 2, "")
    assert sms.external_id == "SM" + "1" * 32
    assert len(responses.calls) == 2


@responses.activate
def test_retries_stop_at_the_configured_attempts(settings, django_capture_on_commit_callbacks):
    settings.PATCHBAY_SEND_MAX_ATTEMPTS = 2
    posted = responses.post(f"{API}/Messages.json", json=TOO_MANY, status=429)
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    make_due(sms_id)
    deliver_sms(sms_id)
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.attempts, sms.error_code) == ("failed", 2, "rate_limited")
    assert sms.failed_at is not None
    assert posted.call_count == 2


@responses.activate
def test_a_server_error_is_not_retried(django_capture_on_commit_callbacks):
    # Twilio: a message POST answered 500 may have sent the message (error 20500).
    posted = responses.post(
        f"{API}/Messages.json",
        json={"code": 20500, "message": "Internal Server Error", "more_info": "", "status": 500},
        status=500,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.attempts, sms.next_attempt_at) == ("failed", 1, None)
    make_due(sms_id)
    deliver_sms(sms_id)
    assert posted.call_count == 1


@responses.activate
def test_a_definite_failure_is_recorded(django_capture_on_commit_callbacks):
    responses.post(
        f"{API}/Messages.json",
        json={"code": 21211, "message": "Invalid 'To'", "more_info": "", "status": 400},
        status=400,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.error_code) == ("failed", "invalid_number")


def test_an_invalid_number_fails_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = shortcuts.send_sms("not a number", "hi", background=True)
    assert (result["success"], result.get("queued")) == (False, None)
    assert callbacks == []


def test_simulated_background_sends_end_delivered(settings, django_capture_on_commit_callbacks):
    settings.PATCHBAY_SIMULATE = True
    with django_capture_on_commit_callbacks(execute=True):
        sms_id = shortcuts.send_sms(TO, "hi", background=True)["sms_id"]
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.simulated) == ("delivered", True)


def test_reconcile_lists_sends_with_an_unknown_outcome():
    import io
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    sms = SMS.objects.create(
        to_number=TO, body="hi", status="sending", error_code="outcome_unknown"
    )
    SMS.objects.filter(pk=sms.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    err = io.StringIO()
    call_command("patchbay_twilio_reconcile", stdout=io.StringIO(), stderr=err)
    assert f"SMS {sms.pk} to {TO}: outcome unknown" in err.getvalue()
    assert SMS.objects.get(pk=sms.pk).status == "sending"  # never resent
