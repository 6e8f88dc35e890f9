"""Zero configuration: a fresh project simulates every shortcut of every service.

The project is what ``django-admin startproject`` makes, plus ``"patchbay"`` in
``INSTALLED_APPS`` and ``patchbay.urls`` mounted: no provider setting, no
``MEDIA_ROOT``, ``DEBUG`` on. It runs in a fresh interpreter, from its own
directory, as ``manage.py`` would; tests/settings.py sets much that such a
project does not have, so it is not used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.simulated_tour import assert_every_step_succeeded, tour_outcomes

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "django-insecure-zero-config-project-for-patchbay-tests"
DEBUG = True
ALLOWED_HOSTS = []
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "patchbay",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "mysite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("integrations/", include("patchbay.urls")),
]
"""

SCRIPT = """
import io, json, sys
import django
django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
check = io.StringIO()
call_command("check", stdout=check)
status = io.StringIO()
call_command("patchbay_status", stdout=status)
from tests import simulated_tour

print("CHECK", json.dumps(check.getvalue()))
print("STATUS", json.dumps(status.getvalue()))
print("OUTCOMES", json.dumps(simulated_tour.run()))
"""


def run_project(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    project = tmp_path / "mysite"
    package = project / "mysite"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "urls.py").write_text(URLS)
    temp = tmp_path / "system-temp"
    temp.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PATCHBAY_", "DJANGO_", "STRIPE_", "TWILIO_", "LOOPS_", "AWS_"))
        and name not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mysite.settings",
        # The project, then this repository for tests.simulated_tour (not tests.settings).
        PYTHONPATH=os.pathsep.join([str(project), str(ROOT)]),
        PYTHONDONTWRITEBYTECODE="1",
        TMPDIR=str(temp),  # the system temp dir, where the simulated bucket goes by default
    )
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", textwrap.dedent(SCRIPT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=180,
        check=False,
    )
    return result, project


def printed(result: subprocess.CompletedProcess[str], label: str) -> str:
    [line] = [line for line in result.stdout.splitlines() if line.startswith(label + " ")]
    value: str = json.loads(line.removeprefix(label + " "))
    return value


def test_a_fresh_project_simulates_everything_and_reports_nothing_missing(tmp_path):
    result, project = run_project(tmp_path)

    assert_every_step_succeeded(tour_outcomes(result))
    assert printed(result, "CHECK").strip() == "System check identified no issues (0 silenced)."
    status = printed(result, "STATUS")
    assert status.count("missing configuration: none (simulated: no credentials needed)") == 4
    assert "missing for live use: AWS_STORAGE_BUCKET_NAME" in status
    assert "aws_s3_bucket_name" not in status
    # Nothing was written into the project but its database: the simulated bucket went to
    # the system's temporary directory.
    written = sorted(str(path.relative_to(project)) for path in project.rglob("*"))
    assert written == [
        "db.sqlite3",
        "mysite",
        "mysite/__init__.py",
        "mysite/settings.py",
        "mysite/urls.py",
    ]
    assert list((tmp_path / "system-temp" / "patchbay-s3").iterdir())
