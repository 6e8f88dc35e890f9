"""The example's Twilio demos, end to end in simulation: send and track an SMS, verify a phone."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example, squeeze

FLOW = textwrap.dedent(
    f"""
    import json, re, sys
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client, override_settings

    call_command("migrate", verbosity=0)
    ada = User.objects.create_user("ada", "ada@example.com", "pw")
    bob = User.objects.create_user("bob", "bob@example.com", "pw")
    seen = {{}}

    def page(response):
        return {{"status": response.status_code, "html": response.content.decode()}}

    client = Client()
    seen["anonymous"] = client.get("/messaging/").status_code
    client.force_login(ada)
    seen["form"] = page(client.get("/messaging/"))
    seen["invalid"] = page(client.post("/messaging/", {{"to_number": "12", "body": "Hi"}}))
    sent = client.post("/messaging/", {{"to_number": "+1 415 555 2671", "body": "Hi <Ada>"}})
    seen["sent_to"] = sent["Location"]
    seen["detail"] = page(client.get(sent["Location"]))
    seen["status"] = json.loads(client.get(sent["Location"] + "status/").content)
    seen["form_after"] = page(client.get("/messaging/"))

    other = Client()
    other.force_login(bob)
    seen["other_detail"] = other.get(sent["Location"]).status_code
    seen["other_status"] = other.get(sent["Location"] + "status/").status_code

    browser = Client(enforce_csrf_checks=True)
    seen["verify"] = page(browser.get("/messaging/verify/"))
    token = browser.cookies["csrftoken"].value
    start_url = re.search(r'id="start-form" data-url="([^"]+)"', seen["verify"]["html"])[1]
    check_url = re.search(r'id="check-form" data-url="([^"]+)"', seen["verify"]["html"])[1]
    number = {{"phone_number": "+14155550123"}}
    seen["start_without_csrf"] = browser.post(start_url, number).status_code
    started = browser.post(start_url, number, headers={{"X-CSRFToken": token}})
    seen["start"] = {{"status": started.status_code, "json": json.loads(started.content)}}
    seen["outbox_panel"] = page(browser.get("/messaging/outbox/"))
    code = re.search(r"[0-9]{{6}}", seen["outbox_panel"]["html"].split("+14155550123", 1)[1])[0]
    wrong = "000000" if code != "000000" else "111111"
    rejected = browser.post(
        check_url, {{**number, "code": wrong}}, headers={{"X-CSRFToken": token}}
    )
    seen["check_wrong"] = {{"status": rejected.status_code, "json": json.loads(rejected.content)}}
    checked = browser.post(check_url, {{**number, "code": code}}, headers={{"X-CSRFToken": token}})
    seen["check"] = checked.status_code
    seen["verified"] = page(browser.get("/messaging/verify/"))

    with override_settings(PATCHBAY_SIMULATE=False):
        seen["live_outbox_panel"] = browser.get("/messaging/outbox/").status_code
        seen["live_verify"] = page(browser.get("/messaging/verify/"))
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("messaging") / "db.sqlite3"
    completed = run_example(["-c", FLOW], database)
    assert completed.returncode == 0, completed.stderr
    flow: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return flow


def test_sending_needs_a_signed_in_user(seen):
    assert seen["anonymous"] == 302


def test_an_invalid_number_is_refused_on_the_form(seen):
    assert seen["invalid"]["status"] == 200
    html = squeeze(seen["invalid"]["html"])
    # On the number's field, where the person corrects it, not above the form.
    field = html.split('for="id_to_number"', 1)[1].split('for="id_body"', 1)[0]
    assert 'class="errorlist' in field
    assert "is not a valid phone number" in field


def test_a_refused_number_is_not_in_the_history(seen):
    # Only the message that went out is listed: the refused "12" never was one.
    recent = seen["form_after"]["html"].split("Your recent messages", 1)[1]
    assert recent.count('href="/messaging/sms/') == 1
    assert ">failed<" not in recent


def test_a_sent_message_is_delivered_by_the_simulated_callbacks(seen):
    assert re.fullmatch(r"/messaging/sms/\d+/", seen["sent_to"])
    detail = squeeze(seen["detail"]["html"])
    assert "<h1>SMS to +14155552671</h1>" in detail
    assert "Hi &lt;Ada&gt;" in detail
    assert 'class="badge healthy"' in detail
    assert f'data-url="{seen["sent_to"]}status/">delivered</span>' in detail
    assert seen["status"]["success"] is True
    assert seen["status"]["status"] == "delivered"
    assert seen["status"]["sid"].startswith("SM")


def test_the_form_lists_recent_messages(seen):
    assert "Your recent messages" not in seen["form"]["html"]
    assert f'href="{seen["sent_to"]}"' in seen["form_after"]["html"]


def test_only_the_sender_sees_a_message(seen):
    assert seen["other_detail"] == 404
    assert seen["other_status"] == 404


def test_the_dev_outbox_shows_simulated_messages(seen):
    assert "Dev outbox" in seen["detail"]["html"]
    assert "Hi &lt;Ada&gt;" in seen["detail"]["html"].split("Dev outbox", 1)[1]
    assert "Nothing sent yet." in seen["form"]["html"]


def test_phone_verification_round_trip(seen):
    assert seen["verify"]["status"] == 200
    assert "the code is in the dev outbox" in seen["verify"]["html"]
    assert "Your verified number" not in seen["verify"]["html"]
    assert seen["start_without_csrf"] == 403
    assert seen["start"]["status"] == 200
    assert seen["check_wrong"]["status"] == 400
    assert seen["check_wrong"]["json"]["error"]
    assert seen["check"] == 200
    assert "Your verified number: <strong>+14155550123</strong>" in seen["verified"]["html"]


def test_the_outbox_is_only_there_while_simulating(seen):
    assert seen["outbox_panel"]["status"] == 200
    assert seen["live_outbox_panel"] == 404
    assert seen["live_verify"]["status"] == 200
    assert "Dev outbox" not in seen["live_verify"]["html"]
    assert "the code is in the dev outbox" not in seen["live_verify"]["html"]
