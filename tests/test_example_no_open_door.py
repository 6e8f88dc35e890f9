"""The example project deployed (``DEBUG`` off) is no open door (issue 14, finding 1).

Its settings used to force simulation on whatever ``DEBUG`` said, and its dev
outboxes showed anyone the sign-in links and verification codes "sent": an
anonymous visitor asked for the admin's sign-in link and read it there, or
read another person's code. Deployed, the example follows ``DEBUG`` (so it
does not simulate), and its outboxes are not there even if a project
simulates with ``DEBUG`` off; the home page's configuration report is for staff.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example, squeeze

DEPLOYED = {"DEBUG": "False", "SECRET_KEY": "a-deployed-example-secret-key-0123456789"}

FLOW = textwrap.dedent(
    f"""
    import json, re, sys
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client, override_settings
    from django.urls import reverse

    from patchbay.core.simulation import should_simulate

    call_command("migrate", verbosity=0)
    admin = User.objects.create_superuser("admin", "admin@example.com", "admin")
    seen = {{"simulating": should_simulate()}}

    def page(response):
        return {{"status": response.status_code, "html": response.content.decode()}}

    def attack(client):
        client.post("/accounts/sign-in/", {{"email": "admin@example.com"}})
        client.post(
            reverse("patchbay:phone-verification-start"), {{"phone_number": "+14155550123"}}
        )
        return {{
            "accounts_outbox": client.get("/accounts/outbox/").status_code,
            "messaging_outbox": client.get("/messaging/outbox/").status_code,
            "sign_in": page(client.get("/accounts/sign-in/")),
            "verify": page(client.get("/messaging/verify/")),
        }}

    seen["home"] = page(Client().get("/"))
    staff = Client()
    staff.force_login(admin)
    seen["staff_home"] = page(staff.get("/"))
    seen["attack"] = attack(Client())
    # A project that simulates with DEBUG off, as the example's settings used to force.
    with override_settings(PATCHBAY_SIMULATE=True):
        seen["attack_while_simulating"] = attack(Client())
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("deployed") / "db.sqlite3"
    completed = run_example(["-c", FLOW], database, **DEPLOYED)
    assert completed.returncode == 0, completed.stderr
    flow: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return flow


def test_deployed_the_example_does_not_simulate(deployed):
    assert deployed["simulating"] is False


@pytest.mark.parametrize("attack", ["attack", "attack_while_simulating"])
def test_the_dev_outboxes_are_not_there(deployed, attack):
    seen = deployed[attack]

    assert seen["accounts_outbox"] == 404
    assert seen["messaging_outbox"] == 404
    for name in ("sign_in", "verify"):
        assert seen[name]["status"] == 200
        for trace in ('id="dev-outbox"', "/accounts/outbox/", "/messaging/outbox/"):
            assert trace not in seen[name]["html"]


def test_the_configuration_report_is_for_staff(deployed):
    anonymous = squeeze(deployed["home"]["html"])
    staff = squeeze(deployed["staff_home"]["html"])

    assert deployed["home"]["status"] == 200
    assert "<strong>Stripe</strong>" not in anonymous
    assert "STRIPE_API_KEY" not in anonymous
    assert "Sign in as staff" in anonymous
    assert "<strong>Stripe</strong>" in staff
    assert "<code>STRIPE_API_KEY</code>" in staff


def test_deployed_the_example_passes_its_checks(tmp_path):
    completed = run_example(
        ["manage.py", "check", "--fail-level", "ERROR"], tmp_path / "db", **DEPLOYED
    )

    assert completed.returncode == 0, completed.stderr
    assert "patchbay.W001" not in completed.stderr
    assert "patchbay.E031" not in completed.stderr


@pytest.mark.parametrize("debug", ["True", "False"])
def test_the_example_never_forces_simulation_on(tmp_path, debug):
    completed = run_example(
        ["manage.py", "check"],
        tmp_path / "db",
        **{**DEPLOYED, "DEBUG": debug},
        PATCHBAY_SIMULATE="true",
    )

    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr
    assert "follows DEBUG" in completed.stderr
