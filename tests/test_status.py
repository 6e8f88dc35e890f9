from __future__ import annotations

import pytest

from patchbay.exceptions import ServiceError
from patchbay.models import ExternalService, HealthCheck
from patchbay.status import ServiceCheck, checks, status_report
from tests.dummy import SECRET, DummyClient

pytestmark = pytest.mark.django_db


def test_a_check_per_registered_service():
    assert "dummy" in [check.provider for check in checks()]


def test_successful_probe_is_recorded(settings):
    settings.DUMMY_API_KEY = SECRET
    check = ServiceCheck(DummyClient).run(debug_mode=False)
    assert check.status == HealthCheck.Status.SUCCESS
    assert check.simulated is False
    assert check.response_time_ms is not None
    service = ExternalService.objects.get(provider="dummy")
    assert service.health_status == "healthy"
    assert service.last_checked_at is not None


def test_failed_and_timed_out_probes(settings, monkeypatch):
    settings.DUMMY_API_KEY = SECRET

    def down(self):
        raise ServiceError(f"bad key {SECRET}", error_code="authentication_error")

    monkeypatch.setattr(DummyClient, "probe", down)
    check = ServiceCheck(DummyClient).run(debug_mode=False)
    assert check.status == HealthCheck.Status.FAILURE
    assert SECRET not in check.error
    assert ExternalService.objects.get(provider="dummy").health_status == "degraded"

    def slow(self):
        raise TimeoutError

    monkeypatch.setattr(DummyClient, "probe", slow)
    assert ServiceCheck(DummyClient).run(debug_mode=False).status == HealthCheck.Status.TIMEOUT


def test_simulated_probe():
    check = ServiceCheck(DummyClient).run(debug_mode=True)
    assert (check.status, check.simulated) == (HealthCheck.Status.SUCCESS, True)


def test_status_report_shows_sources_never_values(settings):
    settings.DUMMY_API_KEY = SECRET
    [entry] = [e for e in status_report() if e["provider"] == "dummy"]
    assert entry["sources"] == {"DUMMY_API_KEY": "settings", "DUMMY_REGION": "default"}
    assert entry["mode"] == "live"
    assert entry["missing"] == []
    assert entry["missing_for_live"] == []
    assert entry["breaker"] == "closed"
    assert SECRET not in repr(status_report())


def test_status_view_is_staff_only(client, admin_client, settings):
    settings.DUMMY_API_KEY = SECRET
    assert client.get("/integrations/status/").status_code == 302
    response = admin_client.get("/integrations/status/")
    assert response.status_code == 200
    providers = [entry["provider"] for entry in response.json()["services"]]
    assert "dummy" in providers
    assert SECRET not in response.content.decode()


def test_live_missing_configuration_is_named_by_setting(settings):
    settings.PATCHBAY_SIMULATE = False
    [entry] = [e for e in status_report() if e["provider"] == "dummy"]
    assert entry["missing"] == entry["missing_for_live"] == ["DUMMY_API_KEY"]
    assert "simulated" not in entry["note"]


def test_simulating_nothing_is_missing(settings):
    settings.PATCHBAY_SIMULATE = True
    [entry] = [e for e in status_report() if e["provider"] == "dummy"]
    assert entry["mode"] == "simulated"
    assert entry["missing"] == []
    assert entry["missing_for_live"] == ["DUMMY_API_KEY"]
    assert entry["note"] == "simulated: no credentials needed"


def test_fresh_project_simulating_reports_nothing_missing(settings):
    """The report of issue 11: no provider setting at all, DEBUG on."""
    settings.PATCHBAY_SIMULATE = None
    settings.DEBUG = True
    report = {entry["provider"]: entry for entry in status_report()}
    for provider in ("stripe", "twilio", "loops", "aws"):
        assert report[provider]["mode"] == "simulated"
        assert report[provider]["missing"] == [], provider
    assert report["aws"]["missing_for_live"] == ["AWS_STORAGE_BUCKET_NAME"]
    assert report["twilio"]["missing_for_live"] == ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]
    assert report["stripe"]["missing_for_live"] == ["STRIPE_API_KEY"]
    assert "AWS_STORAGE_BUCKET_NAME" in report["aws"]["sources"]
    assert "aws_s3_bucket_name" not in repr(report)
