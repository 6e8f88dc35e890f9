"""Many callers needing a refresh at once: exactly one refresh request reaches the provider.

A provider that rotates refresh tokens invalidates the old one: a second refresh
with it would be refused and the connection lost. Concurrent writers need PostgreSQL.
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.utils import timezone

from patchbay.models import OAuth2Token
from tests.conftest import run_concurrently
from tests.oauth2.clients import AcmeOAuthClient
from tests.oauth2.conftest import connect
from tests.workers import WorkerProcesses, wait_until, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def needing_a_refresh(server):
    """Connect, then have the token expire; each refresh takes a while (a race's window)."""
    connect(server, AcmeOAuthClient())
    OAuth2Token.objects.update(expires_at=timezone.now())
    server.set(refresh_delay=0.5)


@pytest.mark.postgres
def test_twenty_threads_refresh_once(postgres_only, server):
    needing_a_refresh(server)
    results = run_concurrently(lambda: AcmeOAuthClient().me(), 20)
    assert [result["success"] for result in results] == [True] * 20
    assert server.refresh_requests == 1
    token = OAuth2Token.objects.get()
    assert set(server.api_authorizations) == {f"Bearer {token.access_token}"}
    assert token.status == OAuth2Token.Status.ACTIVE


@pytest.mark.postgres
def test_twenty_threads_answered_401_refresh_once(postgres_only, server):
    connect(server, AcmeOAuthClient())
    server.revoke_access_token(OAuth2Token.objects.get().access_token)
    server.set(refresh_delay=0.5)
    results = run_concurrently(lambda: AcmeOAuthClient().me(), 20)
    assert [result["success"] for result in results] == [True] * 20
    assert server.refresh_requests == 1


@pytest.mark.postgres
def test_two_processes_refresh_once(postgres_only, server, tmp_path):
    needing_a_refresh(server)
    ready, go = tmp_path / "ready", tmp_path / "go"
    env = worker_env(OAUTH2_SERVER_URL=server.url, OAUTH2_READY=str(ready), OAUTH2_GO=str(go))
    command = ("-m", "tests.oauth2.refresh_process")
    processes = WorkerProcesses(command, env, tmp_path)
    other = processes.start()
    try:
        wait_until(ready.exists, "the second process is set up")
        client = AcmeOAuthClient()
        client.config  # noqa: B018  (read before the race, as the other process did)
        go.touch()
        time.sleep(0.05)  # let the other process ask first as often as not
        mine = client.me()
        other.wait(timeout=60)
    finally:
        processes.stop()
    theirs = json.loads((tmp_path / "worker0.log").read_text().strip().splitlines()[-1])
    assert mine["success"], mine
    assert theirs["success"], theirs
    assert server.refresh_requests == 1
    assert len(set(server.api_authorizations)) == 1


@pytest.mark.postgres
def test_without_row_locks_a_cache_lock_serializes_the_refresh(postgres_only, server, monkeypatch):
    # Databases without SELECT ... FOR UPDATE (SQLite) lock with a key in the cache. Run
    # here on PostgreSQL: SQLite's shared in-memory test database refuses concurrent
    # writers ("database table is locked") whatever patchbay does.
    monkeypatch.setattr(connection.features, "has_select_for_update", False)
    needing_a_refresh(server)
    results = run_concurrently(lambda: AcmeOAuthClient().me(), 8)
    assert [result["success"] for result in results] == [True] * 8
    assert server.refresh_requests == 1
