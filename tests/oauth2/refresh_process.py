"""A second process needing the same OAuth2 refresh: ``python -m tests.oauth2.refresh_process``.

Started by tests/oauth2/test_refresh_once.py with tests/worker_settings.py (the test
database) and, in the environment, the test server's URL (``OAUTH2_SERVER_URL``) and
two paths: it creates ``OAUTH2_READY`` once set up, waits for ``OAUTH2_GO`` to exist,
then makes one call with the site-wide connection and prints its result as JSON.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import django


def main() -> None:
    django.setup()
    from django.conf import settings

    from tests.oauth2.clients import AcmeOAuthClient
    from tests.oauth2_server import CLIENT_ID, CLIENT_SECRET

    url = os.environ["OAUTH2_SERVER_URL"]
    settings.PATCHBAY_SIMULATE = False
    settings.TEST_SERVER_API_URL = url
    settings.ACME_OAUTH_OAUTH2_TOKEN_URL = f"{url}/token"
    settings.ACME_OAUTH_OAUTH2_CLIENT_ID = CLIENT_ID
    settings.ACME_OAUTH_OAUTH2_CLIENT_SECRET = CLIENT_SECRET
    client = AcmeOAuthClient()
    client.config  # noqa: B018  (read the ExternalService row before the race, not in it)
    Path(os.environ["OAUTH2_READY"]).touch()
    go = Path(os.environ["OAUTH2_GO"])
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    print(json.dumps(client.me()), flush=True)


if __name__ == "__main__":
    main()
