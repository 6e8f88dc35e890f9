"""The example project starts, passes its checks and renders its pages.

It runs in subprocesses, with its own settings, as ``python3 dev.py example`` runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from html import escape
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from example_project.example.env import env_list, env_optional_bool, load_env_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
SECRET = "sk_test_never_shown_on_the_home_page"
# A status_report() entry of a live service that is unwell in every way the page shows.
UNWELL_SERVICE = {
    "provider": "unwell",
    "name": "Unwell",
    "mode": "live",
    "enabled": False,
    "disabled_reason": "Unwell is disabled (UNWELL_ENABLED is False).",
    "sdk_installed": False,
    "missing": ["UNWELL_API_KEY"],
    "missing_for_live": ["UNWELL_API_KEY"],
    "sources": {"UNWELL_API_KEY": "default", "UNWELL_REGION": "settings"},
    "health": "down",
    "success_rate": 12.5,
    "breaker": "open",
}

RENDER_PAGES = textwrap.dedent(
    f"""
    import json, sys
    from unittest import mock
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from django.contrib.auth.models import User

    from example import views
    from patchbay.core.registry import client_classes
    from patchbay.models import ExternalService

    call_command("migrate", verbosity=0)
    pages = {{"home_anonymous": Client().get("/")}}
    client = Client()  # the configuration report is for staff
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "admin"))
    pages["home"] = client.get("/")
    with mock.patch.object(views, "status_report", return_value=[]):
        pages["home_without_services"] = client.get("/")
    with mock.patch.object(views, "status_report", return_value=[{UNWELL_SERVICE!r}]):
        pages["home_with_unwell_service"] = client.get("/")

    from tests.dummy import DummyClient  # registers the "dummy" service
    ExternalService.objects.create(
        provider="dummy", name="Dummy", credentials={{"api_key": {SECRET!r}}}
    )
    pages["home_with_dummy"] = client.get("/")
    pages["admin_login"] = Client().get("/admin/login/")
    print(json.dumps({{
        "pages": {{
            name: {{"status": page.status_code, "html": page.content.decode()}}
            for name, page in pages.items()
        }},
        "services": [client_class.label() for client_class in client_classes()],
        "demo_links": [reverse(demo.url_name) for demo in views.DEMOS],
        "planned_services": [
            name for name in views.PLANNED_SERVICES
            if name not in {{demo.service for demo in views.DEMOS}}
        ],
    }}))
    """
)


def squeeze(html: str) -> str:
    """``html`` with every run of whitespace made one space, for layout-proof assertions."""
    return re.sub(r"\s+", " ", html)


def run_example(
    arguments: list[str], database: Path, **environment: str
) -> subprocess.CompletedProcess[str]:
    """Run the example as ``python3 dev.py example`` does (``DEBUG`` on), unless ``environment``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "PATCHBAY_SIMULATE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="example.settings",
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="True",
        ALLOWED_HOSTS="testserver",
        # The test client's flows read the outcome at once: no delayed callbacks.
        PATCHBAY_TWILIO_SIMULATED_CALLBACK_DELAYS="0",
    )
    env.update(environment)
    return subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, *arguments],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example's pages, rendered in one subprocess, and what they should list."""
    database = tmp_path_factory.mktemp("example") / "db.sqlite3"
    completed = run_example(["-c", RENDER_PAGES], database)
    assert completed.returncode == 0, completed.stderr
    rendered: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return rendered


def test_example_passes_system_checks(tmp_path):
    completed = run_example(["manage.py", "check", "--fail-level", "WARNING"], tmp_path / "db")

    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


def test_home_page_explains_and_links(example):
    home = example["pages"]["home"]

    assert home["status"] == 200
    assert "Simulation is on" in home["html"]
    assert 'href="/admin/"' in home["html"]
    assert 'href="/integrations/status/"' in home["html"]


def test_home_page_shows_the_configuration_to_staff_only(example):
    anonymous = example["pages"]["home_anonymous"]

    assert anonymous["status"] == 200
    assert "Sign in as staff" in anonymous["html"]
    for label in example["services"]:
        assert f"<strong>{escape(label)}</strong>" not in anonymous["html"]
    assert "Sign in as staff" not in example["pages"]["home"]["html"]


def test_home_page_lists_every_registered_service(example):
    html = example["pages"]["home_with_dummy"]["html"]

    assert "Dummy" in example["services"]
    for label in example["services"]:
        assert f"<strong>{escape(label)}</strong>" in html


def test_home_page_says_when_no_service_is_registered(example):
    home = example["pages"]["home_without_services"]

    assert home["status"] == 200
    assert "No service is registered yet" in home["html"]


def test_home_page_shows_configuration_sources_not_secrets(example):
    html = squeeze(example["pages"]["home_with_dummy"]["html"])

    assert '<span class="badge simulated">simulated</span>' in html
    assert '<code>DUMMY_API_KEY</code> <span class="muted">from database</span>' in html
    assert '<code>DUMMY_REGION</code> <span class="muted">from default</span>' in html
    assert SECRET not in html


def test_home_page_shows_what_is_wrong_with_a_service(example):
    html = squeeze(example["pages"]["home_with_unwell_service"]["html"])

    assert '<span class="badge live">live</span>' in html
    assert "Unwell is disabled (UNWELL_ENABLED is False)." in html
    assert '<span class="badge down">down</span>' in html
    assert "12.5% succeeded" in html
    assert "breaker open" in html
    assert '<code>UNWELL_API_KEY</code> <span class="badge missing">missing</span>' in html
    assert '<code>UNWELL_REGION</code> <span class="muted">from settings</span>' in html
    assert "SDK not installed" in html


def test_home_page_links_each_demo_and_names_the_ones_to_come(example):
    html = example["pages"]["home"]["html"]

    for link in example["demo_links"]:
        assert f'href="{link}"' in html
    if example["planned_services"]:
        assert ", ".join(example["planned_services"]) in html


def test_admin_is_mounted(example):
    login = example["pages"]["admin_login"]

    assert login["status"] == 200
    assert "Django administration" in login["html"]


def test_env_file_fills_in_unset_variables_only(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n"
        "\n"
        "EXAMPLE_PLAIN=plain value\n"
        "export EXAMPLE_EXPORTED=1\n"
        "EXAMPLE_QUOTED='quoted # not a comment'\n"
        "EXAMPLE_ALREADY_SET=from file\n"
        "not a variable\n"
    )
    for name in ("EXAMPLE_PLAIN", "EXAMPLE_EXPORTED", "EXAMPLE_QUOTED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXAMPLE_ALREADY_SET", "from environment")

    load_env_file(env_file)
    load_env_file(tmp_path / "missing.env")

    assert os.environ["EXAMPLE_PLAIN"] == "plain value"
    assert os.environ["EXAMPLE_EXPORTED"] == "1"
    assert os.environ["EXAMPLE_QUOTED"] == "quoted # not a comment"
    assert os.environ["EXAMPLE_ALREADY_SET"] == "from environment"


@pytest.mark.parametrize(
    ("raw", "expected"), [("", None), ("yes", True), ("True", True), ("off", False), ("0", False)]
)
def test_env_optional_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("EXAMPLE_FLAG", raw)

    assert env_optional_bool("EXAMPLE_FLAG") is expected


def test_env_optional_bool_rejects_other_words(monkeypatch):
    monkeypatch.setenv("EXAMPLE_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="EXAMPLE_FLAG"):
        env_optional_bool("EXAMPLE_FLAG")


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("EXAMPLE_LIST", " a, b,,c ")

    assert env_list("EXAMPLE_LIST") == ["a", "b", "c"]
