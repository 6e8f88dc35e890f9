"""The example's Loops demos, end to end in simulation: sign in with a link, reset a password."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example, squeeze

FLOW = textwrap.dedent(
    f"""
    import json, re, sys
    from urllib.parse import urlsplit
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client, override_settings

    from patchbay.core.simulation import outbox

    call_command("migrate", verbosity=0)
    User.objects.create_user("ada", "Ada@Example.com", "old-password-1")
    seen = {{}}

    def page(response):
        return {{"status": response.status_code, "html": response.content.decode()}}

    def local(url):
        parts = urlsplit(url)
        return parts.path + (f"?{{parts.query}}" if parts.query else "")

    def emails(template_id):
        return [
            call for call in outbox.filter(provider="loops", operation="transactional_email")
            if call.data["payload"]["transactionalId"] == template_id
        ]

    # -- sign in with a link --------------------------------------------------------------
    browser = Client()
    seen["sign_in"] = page(browser.get("/accounts/sign-in/?next=/messaging/verify/"))
    seen["sign_in_evil_next"] = page(browser.get("/accounts/sign-in/?next=https://evil.com/"))
    asked = browser.post(
        "/accounts/sign-in/", {{"email": "ada@example.com", "next": "/messaging/verify/"}}
    )
    unknown = browser.post("/accounts/sign-in/", {{"email": "nobody@example.com"}})
    seen["sign_in_answers"] = [asked.status_code, asked["Location"], unknown["Location"]]
    seen["sign_in_sent"] = page(browser.get(asked["Location"]))
    seen["login_emails"] = len(emails("sim_login_code"))
    seen["outbox"] = page(browser.get("/accounts/outbox/"))
    link = re.search(r'href="([^"]*/integrations/login/[^"]+)"', seen["outbox"]["html"])[1]
    seen["confirm_page"] = page(browser.get(local(link)))  # a scanner's fetch uses nothing
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', seen["confirm_page"]["html"])
    opened = browser.post(local(link), {{"csrfmiddlewaretoken": csrf[1]}})
    seen["opened"] = [opened.status_code, opened.get("Location")]
    seen["signed_in"] = page(browser.get("/accounts/sign-in/"))
    stranger = Client()
    seen["reused"] = page(stranger.get(local(link)))
    seen["stranger"] = page(stranger.get("/accounts/sign-in/"))
    hostile = [
        browser.post("/accounts/sign-in/", {{"email": email, "next": "/a\\x00b"}})
        for email in ("ada@example.com", "nobody@example.com")
    ]
    seen["hostile_next"] = [[answer.status_code, answer.get("Location")] for answer in hostile]

    # -- forgot password ------------------------------------------------------------------
    browser = Client()
    seen["reset"] = page(browser.get("/accounts/password-reset/"))
    asked = browser.post("/accounts/password-reset/", {{"email": "ADA@example.com"}})
    unknown = browser.post("/accounts/password-reset/", {{"email": "nobody@example.com"}})
    seen["reset_answers"] = [asked.status_code, asked["Location"], unknown["Location"]]
    seen["reset_sent"] = page(browser.get(asked["Location"]))
    seen["reset_emails"] = [
        [call.data["payload"]["email"], sorted(call.data["payload"]["dataVariables"])]
        for call in emails("sim_password_reset")
    ]
    outbox_html = page(browser.get("/accounts/outbox/"))["html"]
    reset_link = re.search(r'href="([^"]*/accounts/reset/[^"]+)"', outbox_html)[1]
    confirm = browser.get(local(reset_link))
    seen["confirm"] = [confirm.status_code, confirm.get("Location")]
    seen["form"] = page(browser.get(confirm["Location"]))
    new_password = {{"new_password1": "a-new-Passw0rd!", "new_password2": "a-new-Passw0rd!"}}
    done = browser.post(confirm["Location"], new_password)
    seen["done"] = [done.status_code, done.get("Location")]
    seen["done_page"] = page(browser.get(done["Location"]))
    seen["login_with_new"] = Client().login(username="ada", password="a-new-Passw0rd!")
    seen["login_with_old"] = Client().login(username="ada", password="old-password-1")
    seen["reset_reused"] = page(Client().get(local(reset_link), follow=True))

    with override_settings(PATCHBAY_SIMULATE=False):
        seen["live_outbox"] = browser.get("/accounts/outbox/").status_code
        seen["live_reset"] = page(browser.get("/accounts/password-reset/"))
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("accounts") / "db.sqlite3"
    completed = run_example(["-c", FLOW], database)
    assert completed.returncode == 0, completed.stderr
    flow: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return flow


def test_the_sign_in_page_keeps_only_a_safe_next_url(seen):
    assert seen["sign_in"]["status"] == 200
    assert 'name="next" value="/messaging/verify/"' in seen["sign_in"]["html"]
    assert "evil.com" not in seen["sign_in_evil_next"]["html"]
    assert 'name="next" value="/accounts/sign-in/"' in seen["sign_in_evil_next"]["html"]


def test_asking_for_a_link_answers_the_same_for_unknown_addresses(seen):
    status, location, unknown_location = seen["sign_in_answers"]
    assert status == 302
    assert location == unknown_location == "/accounts/sign-in/?sent=1"
    assert "a sign-in link is on its way" in seen["sign_in_sent"]["html"]
    assert seen["login_emails"] == 1


def test_a_hostile_next_gets_the_same_answer_for_any_address(seen):
    known, unknown = seen["hostile_next"]
    assert known == unknown
    assert known[0] in (200, 302)


def test_opening_the_link_shows_a_page_that_signs_in_with_one_post(seen):
    assert seen["confirm_page"]["status"] == 200
    assert "data-patchbay-auto-submit" in seen["confirm_page"]["html"]
    assert "<button" in seen["confirm_page"]["html"]


def test_the_link_signs_in_and_redirects(seen):
    assert seen["opened"] == [302, "/messaging/verify/"]
    assert "You are signed in as <strong>ada</strong>" in seen["signed_in"]["html"]


def test_the_link_works_once(seen):
    assert seen["reused"]["status"] == 400
    assert "This sign-in link does not work" in seen["reused"]["html"]
    assert "You are signed in" not in seen["stranger"]["html"]


def test_the_dev_outbox_lists_emails_with_clickable_links(seen):
    html = squeeze(seen["outbox"]["html"])
    assert seen["outbox"]["status"] == 200
    assert "<code>sim_login_code</code>" in html
    assert "Ada@example.com" in html
    assert "<code>expiresInMinutes</code>: 15" in html
    assert "<code>loginUrl</code>: <a href=" in html


def test_the_pages_link_the_outbox_while_simulating(seen):
    for name in ("sign_in", "reset", "reset_sent"):
        assert 'href="/accounts/outbox/"' in seen[name]["html"]
    assert seen["live_outbox"] == 404
    assert seen["live_reset"]["status"] == 200
    assert "/accounts/outbox/" not in seen["live_reset"]["html"]


def test_forgot_password_answers_the_same_for_unknown_addresses(seen):
    status, location, unknown_location = seen["reset_answers"]
    assert status == 302
    assert location == unknown_location == "/accounts/password-reset/sent/"
    assert "If an account uses that address" in seen["reset_sent"]["html"]
    assert seen["reset_emails"] == [["Ada@example.com", ["name", "resetUrl"]]]


def test_the_reset_link_sets_a_new_password(seen):
    status, location = seen["confirm"]
    assert status == 302
    assert location.endswith("/set-password/")
    assert 'name="new_password1"' in seen["form"]["html"]
    assert seen["done"] == [302, "/accounts/reset/done/"]
    assert "Your password is set" in seen["done_page"]["html"]
    assert seen["login_with_new"] is True
    assert seen["login_with_old"] is False


def test_the_reset_link_works_once(seen):
    assert "This reset link does not work" in seen["reset_reused"]["html"]
