"""Schemathesis against the management API, served by gunicorn on 127.0.0.1 (``.ci/run``).

``python -m tests.api.schemathesis_run [schemathesis options]``: migrates a
fresh database (a temporary SQLite file unless ``DATABASE_URL`` names one),
creates a superuser and an API token, serves ``tests.settings`` and runs
``schemathesis run`` on ``/integrations/api/schema/`` with the token, checking
that no answer is a server error and that every answer conforms to the
document. Exits with schemathesis' status.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from patchbay.models import APIToken, WebhookEvent
for number in range(1, 4):  # events to retrieve and reprocess
    WebhookEvent.objects.create(provider="stripe", event_id=f"evt_{number}", status="failed")
user = get_user_model().objects.create_superuser("schemathesis", password=None)
print(APIToken.objects.issue(user, "schemathesis")[1])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"The server exited with {server.returncode}.")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"The server did not listen on 127.0.0.1:{port}.")


def main(arguments: list[str]) -> int:
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        }
        env.setdefault("DATABASE_URL", f"sqlite:///{directory}/api.sqlite3")
        python = sys.executable
        subprocess.run([python, "-m", "django", "migrate", "-v0"], env=env, check=True)  # noqa: S603  (our interpreter, our arguments)
        token = subprocess.run(  # noqa: S603  (our interpreter, our arguments)
            [python, "-c", SETUP], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(  # noqa: S603  (our interpreter, our arguments)
            [
                *(python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "1", "--log-level", "warning"),
                "django.core.wsgi:get_wsgi_application()",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            wait_for(port, server)
            command = [
                str(Path(python).with_name("schemathesis")),
                "run",
                f"http://127.0.0.1:{port}/integrations/api/schema/",
                *("--header", f"Authorization: Bearer {token}"),
                *("--checks", CHECKS),
                *("--workers", "1"),
                *arguments,
            ]
            return subprocess.run(command, cwd=directory, check=False).returncode  # noqa: S603  (our interpreter, our arguments)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
