"""Background sends on real worker processes (db_worker and rqworker), against local APIs.

The test process saves the send in its transaction and the Tasks backend carries
the job to a worker process (tests/workers.py), which sends it to Twilio's or
Loops' API: here a local HTTP server on 127.0.0.1 that records every request and
answers as the test plans. Loops' address is its ``LOOPS_API_BASE`` setting;
Twilio's SDK has none, so the workers route it through a custom HTTP client
(tests/worker_app).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from patchbay.core.sends import resume_sends
from patchbay.loops import shortcuts as loops
from patchbay.models import SMS, OutboundEmail
from patchbay.twilio import shortcuts as twilio
from tests.loops.helpers import API_KEY, TEMPLATES, WEBHOOK_SECRET
from tests.twilio.helpers import ACCOUNT_SID, AUTH_TOKEN, FROM, TO, message_json
from tests.workers import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
TRANSACTIONAL_PATH = "/api/v1/transactional"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class LocalAPI:
    """Twilio's and Loops' APIs on 127.0.0.1: each request recorded, answered as planned."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    #: Answers to give first, per path, before the usual success; None drops the connection
    #: once the request is read (the answer is lost).
    planned: dict[str, list[tuple[int, Any] | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> tuple[int, Any] | None:
        with self.lock:
            if self.planned.get(path):
                return self.planned[path].pop(0)
        if path == MESSAGES_PATH:
            return 201, message_json(sid=f"SM{len(self.to(MESSAGES_PATH)):032d}")  # 1, 2, ...
        return 200, {"success": True}

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.received if request.path == path]


@pytest.fixture
def local_api() -> Iterator[LocalAPI]:
    api = LocalAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with api.lock:
                api.received.append(Received(self.path, dict(self.headers), body))
            planned = api.answer(self.path)
            if planned is None:
                self.close_connection = True
                return
            status, answer = planned
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def start(engine, settings, local_api):
    """Start a worker of the engine of this run, live against the local APIs.

    The test process is live too (it checks and saves the sends) but never sends:
    its Tasks backend is the engine's.
    """
    live = {
        "PATCHBAY_SIMULATE": False,
        "PATCHBAY_MAX_RETRIES": 0,  # one request an attempt: the task retries, not urllib3
        "PATCHBAY_SEND_RETRY_DELAY": 0.2,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": FROM,
        "PATCHBAY_PUBLIC_URL": "https://app.example.com",  # no callback ever reaches it
        "LOOPS_API_KEY": API_KEY,
        "LOOPS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "LOOPS_API_BASE": local_api.url + "/api/v1",
        "LOOPS_TRANSACTIONAL_IDS": TEMPLATES,
        "LOOPS_RETRY_BACKOFF": 0,
    }
    for name, value in live.items():
        setattr(settings, name, value)
    return lambda: engine.start_worker(**live, TEST_TWILIO_API_BASE=local_api.url)


def send_both(body: str) -> tuple[int, int]:
    """An SMS and a password reset email in the background; their rows' ids."""
    sms = twilio.send_sms(TO, body, background=True)
    email = loops.send_template(
        "password_reset", "ada@example.com", {"resetUrl": f"https://x/{body}"}, background=True
    )
    assert sms["success"], sms
    assert email["success"], email
    return sms["sms_id"], email["email_id"]


def done(sms_id: int, email_id: int):
    return lambda: (
        SMS.objects.filter(pk=sms_id).exclude(status__in=["pending", "sending"]).exists()
        and OutboundEmail.objects.filter(pk=email_id, status="sent").exists()
    )


def test_committed_sends_are_sent_exactly_once(start, local_api):
    start()
    start()  # two workers: still once
    with transaction.atomic():
        sms_id, email_id = send_both("committed")

    wait_until(done(sms_id, email_id), "the SMS and the email sent")

    resume_sends(grace=0)  # a resume finds nothing left to send
    sms, email = SMS.objects.get(pk=sms_id), OutboundEmail.objects.get(pk=email_id)
    assert (sms.status, sms.attempts, sms.external_id) == ("queued", 1, f"SM{1:032d}")
    assert (email.status, email.attempts) == ("sent", 1)
    (message,) = local_api.to(MESSAGES_PATH)
    assert message.form()["Body"] == ["committed"]
    (sent,) = local_api.to(TRANSACTIONAL_PATH)
    assert sent.headers["Idempotency-Key"] == f"patchbay-email-{email_id}"
    assert json.loads(sent.body)["dataVariables"] == {"resetUrl": "https://x/committed"}


def queued_jobs() -> int:
    """Jobs waiting in the queue of the engine the test process enqueues on."""
    from django.conf import settings

    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.count()
    import django_rq

    return int(django_rq.get_queue("default").count)


def test_a_rolled_back_transaction_sends_and_enqueues_nothing(start, local_api):
    def rolled_back() -> None:
        with transaction.atomic():
            send_both("rolled back")
            raise RuntimeError("the order failed")

    before = queued_jobs()
    with pytest.raises(RuntimeError):
        rolled_back()
    assert queued_jobs() == before
    start()
    with transaction.atomic():  # then a committed pair, through the same worker and queue
        sms_id, email_id = send_both("committed after")

    wait_until(done(sms_id, email_id), "the committed SMS and email sent")

    # The queue is first in first out: the rolled-back sends would have come first.
    assert [m.form()["Body"] for m in local_api.to(MESSAGES_PATH)] == [["committed after"]]
    assert len(local_api.to(TRANSACTIONAL_PATH)) == 1
    assert list(SMS.objects.values_list("pk", flat=True)) == [sms_id]
    assert list(OutboundEmail.objects.values_list("pk", flat=True)) == [email_id]


def test_a_retried_loops_send_reuses_its_idempotency_key(start, local_api):
    local_api.planned[TRANSACTIONAL_PATH] = [None]  # the answer lost: Loops may have sent it
    local_api.planned[MESSAGES_PATH] = [
        (429, {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429})
    ]
    start()
    with transaction.atomic():
        sms_id, email_id = send_both("retried")

    wait_until(done(sms_id, email_id), "the SMS and the email sent on their second attempt")

    keys = [request.headers["Idempotency-Key"] for request in local_api.to(TRANSACTIONAL_PATH)]
    assert keys == [f"patchbay-email-{email_id}"] * 2
    assert len(local_api.to(MESSAGES_PATH)) == 2  # a 429 created no message: sent once
    sms, email = SMS.objects.get(pk=sms_id), OutboundEmail.objects.get(pk=email_id)
    assert (sms.status, sms.attempts, sms.error_code) == ("queued", 2, "")
    assert (email.status, email.attempts, email.error_code) == ("sent", 2, "")


def test_a_lost_answer_to_an_sms_is_never_retried(start, local_api):
    local_api.planned[MESSAGES_PATH] = [None]  # Twilio may have sent it
    start()
    with transaction.atomic():
        sms_id, email_id = send_both("maybe sent")

    sent = OutboundEmail.objects.filter(pk=email_id, status="sent")
    unknown = SMS.objects.filter(pk=sms_id, error_code="outcome_unknown")
    wait_until(lambda: sent.exists() and unknown.exists(), "the email sent, the SMS unknown")

    assert resume_sends(grace=0) == 0  # left to reconcile: never sent again
    sms = SMS.objects.get(pk=sms_id)
    assert (sms.status, sms.attempts, sms.next_attempt_at) == ("sending", 1, None)
    assert len(local_api.to(MESSAGES_PATH)) == 1


@pytest.mark.parametrize("engine", ["rq_engine"], indirect=True)  # Redis is the broker down
def test_sends_whose_broker_was_down_are_resumed_and_sent_once(start, local_api, settings):
    reachable = settings.RQ_QUEUES
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}  # a closed port
    with transaction.atomic():
        sms_id, email_id = send_both("broker down")  # saved; the enqueue fails, logged
    settings.RQ_QUEUES = reachable
    assert SMS.objects.get(pk=sms_id).status == "pending"

    assert resume_sends(grace=0) == 2
    assert resume_sends(grace=0) == 2  # two jobs for each row: still sent once
    start()

    wait_until(done(sms_id, email_id), "the resumed SMS and email sent")
    wait_until(lambda: queued_jobs() == 0, "the second jobs taken by the worker")
    assert len(local_api.to(MESSAGES_PATH)) == 1
    assert len(local_api.to(TRANSACTIONAL_PATH)) == 1
