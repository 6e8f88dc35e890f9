"""IntegrationLog's level, derived when a call is recorded, and its user (acting_user)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from patchbay.core.recording import acting_user, flush, record_call, record_refusal
from patchbay.models import IntegrationLog

pytestmark = pytest.mark.django_db


def record(success, **kwargs):
    record_call(provider="acme", operation="op", success=success, duration_ms=1, **kwargs)
    flush()
    return IntegrationLog.objects.latest("id")


def test_a_success_is_info_and_a_failure_an_error():
    assert record(True).level == IntegrationLog.Level.INFO
    assert record(False, error="boom", error_code="provider_error").level == "error"


def test_a_refused_delivery_is_a_warning(settings):
    settings.PATCHBAY_REFUSED_WEBHOOK_WINDOW = 0

    record_refusal(
        provider="acme",
        operation="webhook",
        error="bad signature",
        error_code="invalid_signature",
        status_code=400,
        duration_ms=1,
    )
    flush()

    assert IntegrationLog.objects.get().level == IntegrationLog.Level.WARNING


def test_calls_inside_acting_user_are_recorded_as_the_users(admin_user):
    with acting_user(admin_user):
        inside = record(True)
    outside = record(True)

    assert inside.user == admin_user
    assert outside.user is None


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_nobody_signed_in_records_no_user(user):
    with acting_user(user):
        assert record(True).user is None
