"""Calls per tenant: breakers, rate limits, health rows, log rows and background jobs."""

from __future__ import annotations

import pytest

from patchbay.core import recording, tasks
from patchbay.core.breaker import CircuitBreaker
from patchbay.core.throttle import Throttle
from patchbay.models import ExternalService, IntegrationLog
from patchbay.signals import service_health_changed
from patchbay.tenancy import SITE, current_tenant_key, use_tenant
from tests.dummy import DummyClient


def failing():
    raise ConnectionError("down")


@pytest.fixture(autouse=True)
def _live(settings, db):
    settings.PATCHBAY_SIMULATE = False
    settings.DUMMY_API_KEY = "key"
    settings.PATCHBAY_BREAKER_THRESHOLD = 2
    settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 2


def test_one_tenants_failures_open_only_its_own_breaker(acme, globex):
    for _ in range(2):
        assert DummyClient(tenant=acme, behaviour=failing).create_item("x")["error_code"] == (
            "connection_error"
        )
    assert DummyClient(tenant=acme).create_item("x")["error_code"] == "circuit_open"
    assert DummyClient(tenant=globex).create_item("x")["success"]
    assert DummyClient(tenant=SITE).create_item("x")["success"]
    assert CircuitBreaker(f"dummy@{acme.pk}").state == "open"
    assert CircuitBreaker("dummy").state == "closed"  # the site's keeps its name


def test_names_of_breakers_and_throttles(acme):
    client = DummyClient(tenant=acme)
    assert client.breaker.name == f"dummy@{acme.pk}"
    assert client.throttle.name == f"dummy@{acme.pk}"
    assert DummyClient(tenant=SITE).breaker.name == "dummy"
    assert Throttle("dummy").name == "dummy"


def test_health_is_kept_on_each_tenants_own_row(acme, globex, django_capture_on_commit_callbacks):
    changes = []

    def changed(sender, **kwargs):
        changes.append((kwargs["tenant_key"], kwargs["new_state"]))

    service_health_changed.connect(changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(2):
                DummyClient(tenant=acme, behaviour=failing).create_item("x")
            DummyClient(tenant=globex).create_item("x")
    finally:
        service_health_changed.disconnect(changed)
    acme_row = ExternalService.objects.for_tenant(acme).get(provider="dummy")
    globex_row = ExternalService.objects.for_tenant(globex).get(provider="dummy")
    site_row = ExternalService.objects.for_tenant(SITE).get(provider="dummy")
    assert (acme_row.health_status, acme_row.failed_requests) == ("down", 2)
    assert (globex_row.health_status, globex_row.total_requests) == ("healthy", 1)
    assert site_row.total_requests == 0
    assert changes == [(str(acme.pk), "degraded"), (str(acme.pk), "down")]
    # A row made by the bookkeeping holds no credentials: its tenant still falls back.
    assert acme_row.credentials == {}


def test_log_rows_carry_the_tenant_inline(acme, globex):
    DummyClient(tenant=acme).create_item("x")
    DummyClient(tenant=globex, behaviour=failing).create_item("x")
    rows = sorted(IntegrationLog.objects.values_list("tenant_key", "success"))
    assert rows == sorted([(str(acme.pk), True), (str(globex.pk), False)])


@pytest.mark.django_db(transaction=True)
def test_log_rows_carry_the_tenant_from_the_background_writer(settings, tenancy, monkeypatch):
    from tests.tenant_app.models import Organization

    acme = Organization.objects.create(name="Acme", slug="acme")
    settings.PATCHBAY_RECORD_IN_BACKGROUND = True
    monkeypatch.setattr(recording, "records_in_background", lambda: True)
    DummyClient(tenant=acme).create_item("x")
    assert recording.flush(timeout=5)
    # Written by the writer's thread, where no tenant is current.
    assert IntegrationLog.objects.get().tenant_key == str(acme.pk)


@tasks.task
def report_tenant(number: int) -> str:
    return f"{number}:{current_tenant_key()}"


class TestBackgroundJobs:
    def test_a_job_enqueued_for_a_tenant_carries_it(self, acme):
        with use_tenant(acme):
            assert tasks.carrying_tenant({"a": 1}) == {"a": 1, "patchbay_tenant": str(acme.pk)}
        with use_tenant(SITE):
            assert tasks.carrying_tenant({}) == {"patchbay_tenant": ""}
        assert tasks.carrying_tenant({}) == {}  # nobody said: the worker decides nothing

    def test_without_a_tenant_model_jobs_are_unchanged(self, settings):
        settings.PATCHBAY_TENANT_MODEL = None
        with use_tenant("7"):
            assert tasks.carrying_tenant({"a": 1}) == {"a": 1}

    def test_the_worker_runs_the_job_for_its_tenant(self, acme):
        # What a worker calls: the framework task's function, with the job's arguments.
        run = report_tenant.framework_task().func
        assert run(1, patchbay_tenant=str(acme.pk)) == f"1:{acme.pk}"
        assert run(2) == "2:"
        assert current_tenant_key() == ""

    def test_a_job_run_inline_runs_for_its_tenant_too(self, acme, monkeypatch):
        monkeypatch.setattr(tasks.PatchbayTask, "framework_task", lambda self: None)
        seen = []
        monkeypatch.setattr(report_tenant, "function", lambda n: seen.append(current_tenant_key()))
        with use_tenant(acme):
            report_tenant.enqueue(1)
        assert seen == [str(acme.pk)]
