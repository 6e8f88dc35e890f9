"""patchbay_resume: background sends whose job was lost are sent, once; never a 'sending' one."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import responses
from django.core.management import call_command
from django.utils import timezone

from patchbay.core.sends import resume_sends
from patchbay.loops import shortcuts as loops
from patchbay.models import SMS, OutboundEmail
from patchbay.twilio import shortcuts as twilio
from tests.loops.helpers import API as LOOPS_API
from tests.loops.helpers import live_loops
from tests.twilio.helpers import API as TWILIO_API
from tests.twilio.helpers import TO, live_twilio, message_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_twilio", "live_loops")]
__all__ = ["live_loops", "live_twilio"]


@pytest.fixture
def posted():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield (
            mocked.post(f"{TWILIO_API}/Messages.json", json=message_json(), status=201),
            mocked.post(f"{LOOPS_API}/transactional", json={"success": True}),
        )


def lost_jobs(django_capture_on_commit_callbacks):
    """An SMS and an email saved, their jobs lost (the broker was down); the jobs' callables."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sms_id = twilio.send_sms(TO, "Your order shipped", background=True)["sms_id"]
        email_id = loops.send_template("password_reset", "ada@example.com", {}, background=True)[
            "email_id"
        ]
    return sms_id, email_id, callbacks


def age(model, pk, seconds=120):
    model.objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_a_lost_job_is_resumed_and_sent_once(posted, django_capture_on_commit_callbacks):
    sms_post, email_post = posted
    sms_id, email_id, original_jobs = lost_jobs(django_capture_on_commit_callbacks)
    age(SMS, sms_id)
    age(OutboundEmail, email_id)

    out = io.StringIO()
    call_command("patchbay_resume", stdout=out)  # the immediate backend sends at once

    assert out.getvalue().strip() == "Enqueued 0 webhook events and 2 sends."
    assert (sms_post.call_count, email_post.call_count) == (1, 1)
    assert SMS.objects.get(pk=sms_id).status == "queued"
    assert OutboundEmail.objects.get(pk=email_id).status == "sent"
    for job in original_jobs:  # the original jobs turn up after all: nothing sent again
        job()
    assert (sms_post.call_count, email_post.call_count) == (1, 1)
    assert resume_sends(grace=0) == 0


def test_fresh_rows_are_left_to_their_own_job(posted, django_capture_on_commit_callbacks):
    lost_jobs(django_capture_on_commit_callbacks)
    assert resume_sends() == 0
    assert resume_sends(grace=0) == 2


def test_a_row_already_sending_is_never_resumed(posted):
    # Its worker may have posted it: resending could text twice (reconcile, not resend).
    sms = SMS.objects.create(to_number=TO, body="hi", status="sending")
    email = OutboundEmail.objects.create(
        template_key="password_reset", to_email="ada@example.com", status="sending"
    )
    age(SMS, sms.pk)
    age(OutboundEmail, email.pk)
    assert resume_sends(grace=0) == 0
    assert (posted[0].call_count, posted[1].call_count) == (0, 0)


def test_a_retry_is_resumed_when_due_only(posted):
    later = timezone.now() + timedelta(minutes=5)
    sms = SMS.objects.create(to_number=TO, body="hi", attempts=1, next_attempt_at=later)
    age(SMS, sms.pk)
    assert resume_sends(grace=0) == 0
    SMS.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    assert resume_sends(grace=0) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, posted[0].call_count) == ("queued", 2, 1)


def test_inbound_and_sent_messages_are_not_sends_to_resume(posted):
    SMS.objects.create(to_number=TO, body="hi", direction="inbound", status="pending")
    SMS.objects.create(to_number=TO, body="hi", status="pending", external_id="SM" + "2" * 32)
    SMS.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    assert resume_sends(grace=0) == 0
