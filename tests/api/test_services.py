"""The services endpoints: write-only credentials, toggle, connection test, lifecycle."""

from __future__ import annotations

import pytest

from patchbay.core.recording import flush
from patchbay.models import ExternalService, HealthCheck, IntegrationLog
from patchbay.stripe.client import StripeClient
from tests.api.conftest import API
from tests.test_crypto import raw_credentials

pytestmark = pytest.mark.django_db

SECRET = "sk_test_api-never-shown-0123456789"


def patch(api, url, body):
    return api.patch(url, body, content_type="application/json")


def test_the_list_has_every_row_and_no_credential_value(api):
    stripe = ExternalService.objects.get(provider="stripe")
    stripe.credentials = {"api_key": SECRET}
    stripe.save()

    response = api.get(f"{API}/services/")

    assert response.status_code == 200
    services = {service["provider"]: service for service in response.json()["results"]}
    assert set(services) == set(ExternalService.objects.values_list("provider", flat=True))
    assert services["stripe"]["credentials"] == ["api_key"]
    assert services["stripe"]["registered"] is True
    assert SECRET not in response.content.decode()


def test_retrieving_an_unknown_service_is_a_404(api):
    response = api.get(f"{API}/services/nothing-here/")

    assert response.status_code == 404
    assert response.json() == {"error": "No service 'nothing-here'."}


def test_credentials_are_accepted_stored_encrypted_and_answered_by_name(api):
    response = patch(api, f"{API}/services/stripe/", {"credentials": {"api_key": SECRET}})

    assert response.status_code == 200
    assert response.json()["credentials"] == ["api_key"]
    assert SECRET not in response.content.decode()
    service = ExternalService.objects.get(provider="stripe")
    assert service.credentials == {"api_key": SECRET}
    assert SECRET not in raw_credentials(service.pk)
    # The next client reads them (the cached row was dropped).
    assert StripeClient().config["api_key"] == SECRET


def test_a_credential_given_as_null_is_cleared_and_the_others_kept(api):
    service = ExternalService.objects.get(provider="stripe")
    service.credentials = {"api_key": SECRET, "webhook_secret": "whsec_kept"}
    service.save()

    response = patch(api, f"{API}/services/stripe/", {"credentials": {"api_key": None}})

    assert response.json()["credentials"] == ["webhook_secret"]
    assert ExternalService.objects.get(provider="stripe").credentials == {
        "webhook_secret": "whsec_kept"
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"credentials": {"api_kee": "x"}}, "stripe has no credential 'api_kee'"),
        ({"credentials": {"api_key": 12}}, "credentials.api_key must be a non-empty string"),
        ({"credentials": {"api_key": ""}}, "credentials.api_key must be a non-empty string"),
        ({"credentials": ["api_key"]}, "credentials must be a mapping"),
        ({"options": {"api_key": SECRET}}, "api_key is a credential: give it in credentials."),
        ({"options": {"colour": "blue"}}, "stripe has no option 'colour'"),
        ({"enabled": "yes"}, "enabled must be true or false."),
        ({"name": "x" * 101}, "name is 101 characters long"),
        ({"provider": "twilio"}, "Unknown field 'provider'"),
        ({"options": {"api_version": "a\x00b"}}, "NUL or unpaired surrogate"),
    ],
)
def test_bad_changes_are_a_400_naming_the_field_and_change_nothing(api, body, error):
    before = ExternalService.objects.get(provider="stripe")

    response = patch(api, f"{API}/services/stripe/", body)

    assert response.status_code == 400
    assert error in response.json()["error"]
    after = ExternalService.objects.get(provider="stripe")
    assert (after.name, after.enabled, after.options, after.credentials) == (
        before.name,
        before.enabled,
        before.options,
        before.credentials,
    )
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[1, 2]",
        b'"text"',
        b'{"name": NaN}',
        b'{"options": {"timeout": 1e999}}',
        b'{"name": "\\ud800"}',
        b"\xff\xfe",
        b"[" * 100_000,
        b'{"options": {"timeout": 1' + b"0" * 5000 + b"}}",
    ],
)
def test_a_body_that_is_not_a_json_object_a_database_stores_is_a_400(api, raw):
    response = api.patch(f"{API}/services/stripe/", raw, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_patch_merges_options_and_null_removes_one(api):
    ExternalService.objects.filter(provider="stripe").update(options={"api_version": "2024-06-20"})

    response = patch(
        api, f"{API}/services/stripe/", {"name": "Payments", "options": {"api_version": None}}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Payments"
    assert response.json()["options"] == {}


def test_put_replaces_the_fields_and_requires_them_all(api):
    incomplete = api.put(f"{API}/services/stripe/", {"name": "x"}, content_type="application/json")
    assert incomplete.status_code == 400
    assert "give enabled, options too" in incomplete.json()["error"]

    response = api.put(
        f"{API}/services/stripe/",
        {"name": "Stripe EU", "enabled": False, "options": {"api_version": "2024-06-20"}},
        content_type="application/json",
    )

    assert response.status_code == 200
    service = ExternalService.objects.get(provider="stripe")
    assert (service.name, service.enabled, service.options) == (
        "Stripe EU",
        False,
        {"api_version": "2024-06-20"},
    )


def test_toggle_switches_the_service_off_and_on_for_the_next_client(api):
    off = api.post(f"{API}/services/stripe/toggle/")

    assert off.status_code == 200
    assert off.json()["enabled"] is False
    assert StripeClient().config.disabled_in_admin is True

    on = api.post(f"{API}/services/stripe/toggle/")
    assert on.json()["enabled"] is True
    assert StripeClient().config.disabled_in_admin is False


def test_testing_the_connection_probes_it_and_records_a_health_check(api, admin_user, settings):
    settings.PATCHBAY_SIMULATE = True

    response = api.post(f"{API}/services/stripe/test/")

    assert response.status_code == 200
    check = HealthCheck.objects.get(service__provider="stripe")
    assert response.json() == {
        "id": check.pk,
        "status": "success",
        "response_time_ms": check.response_time_ms,
        "simulated": True,
        "error": "",
        "checked_at": check.checked_at.isoformat(),
    }
    flush()
    # The probe's call is recorded as the API user's.
    assert (
        IntegrationLog.objects.get(provider="stripe", operation="health_check").user == admin_user
    )


def test_testing_a_service_without_a_client_is_a_409(api):
    ExternalService.objects.create(provider="legacy-crm")

    response = api.post(f"{API}/services/legacy-crm/test/")

    assert response.status_code == 409
    assert "No service client is installed" in response.json()["error"]
    assert not HealthCheck.objects.exists()


def test_the_health_history_is_paged_newest_first(api):
    service = ExternalService.objects.get(provider="stripe")
    checks = [
        HealthCheck.objects.create(service=service, status=status)
        for status in ("success", "failure", "success")
    ]

    first = api.get(f"{API}/services/stripe/health/?limit=2").json()
    second = api.get(f"{API}/services/stripe/health/?limit=2&cursor={first['next_cursor']}").json()
    failures = api.get(f"{API}/services/stripe/health/?status=failure").json()

    assert [check["id"] for check in first["results"]] == [checks[2].pk, checks[1].pk]
    assert [check["id"] for check in second["results"]] == [checks[0].pk]
    assert second["next_cursor"] is None
    assert [check["id"] for check in failures["results"]] == [checks[1].pk]


def test_create_and_delete_follow_the_lifecycle_of_a_registered_service(api):
    exists = api.post(f"{API}/services/", {"provider": "stripe"}, content_type="application/json")
    assert exists.status_code == 409

    assert api.delete(f"{API}/services/stripe/").status_code == 204
    assert not ExternalService.objects.filter(provider="stripe").exists()
    assert api.delete(f"{API}/services/stripe/").status_code == 404

    created = api.post(
        f"{API}/services/",
        {"provider": "stripe", "enabled": False, "credentials": {"api_key": SECRET}},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["name"] == "Stripe"
    assert created.json()["credentials"] == ["api_key"]
    assert SECRET not in created.content.decode()
    assert ExternalService.objects.get(provider="stripe").credentials == {"api_key": SECRET}


@pytest.mark.parametrize(
    ("body", "status"),
    [({"provider": "no-such-provider"}, 404), ({}, 400), ({"provider": 3}, 400)],
)
def test_creating_needs_a_registered_provider(api, body, status):
    response = api.post(f"{API}/services/", body, content_type="application/json")

    assert response.status_code == status
    assert "error" in response.json()


@pytest.mark.parametrize("provider", ["a%00b", "x" * 60, "%ED%A0%80"])
def test_a_provider_no_row_can_have_is_a_404(api, provider):
    assert api.get(f"{API}/services/{provider}/").status_code == 404


# -- credentials no configured key decrypts (patchbay.E024) -------------------------------


@pytest.fixture
def unreadable(settings):
    settings.SECRET_KEY = "the-old-secret-key"
    service = ExternalService.objects.get(provider="stripe")
    service.credentials = {"api_key": SECRET}
    service.save()
    settings.SECRET_KEY = "a-brand-new-secret-key"
    return raw_credentials(service.pk)


def test_a_row_of_unreadable_credentials_is_listed_and_retrieved(api, unreadable):
    listed = api.get(f"{API}/services/")
    retrieved = api.get(f"{API}/services/stripe/")

    assert listed.status_code == retrieved.status_code == 200
    assert retrieved.json()["credentials_unreadable"] is True
    assert retrieved.json()["credentials"] == []
    stripe = next(s for s in listed.json()["results"] if s["provider"] == "stripe")
    assert stripe["credentials_unreadable"] is True


def test_changing_other_fields_keeps_the_unreadable_credentials(api, unreadable):
    response = patch(api, f"{API}/services/stripe/", {"name": "Acme"})

    assert response.status_code == 200
    assert (
        raw_credentials(ExternalService.objects.defer("credentials").get(provider="stripe").pk)
        == unreadable
    )


def test_entering_credentials_again_replaces_the_unreadable_ones(api, unreadable):
    response = patch(api, f"{API}/services/stripe/", {"credentials": {"api_key": "sk_new"}})

    assert response.json()["credentials_unreadable"] is False
    assert response.json()["credentials"] == ["api_key"]
    assert ExternalService.objects.get(provider="stripe").credentials == {"api_key": "sk_new"}
