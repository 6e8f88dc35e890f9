from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.models import LogEntry
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.exceptions import ServiceError
from patchbay.models import ExternalService, HealthCheck, IntegrationLog, WebhookEvent
from patchbay.webhooks import registry as webhook_registry
from tests.conftest import assert_constant_queries

PROVIDER = "acme_admin"
SECRET = "sk_acme_admin_0123456789abcdef"
WRONG_SECRET = "sk_acme_admin_wrong_key_987654"


class AcmeAdminClient(BaseClient):
    provider = PROVIDER
    display_name = "Acme Admin"
    config_fields = {
        "api_key": ConfigField(setting="ACME_ADMIN_API_KEY", secret=True),
        "account": ConfigField(setting="ACME_ADMIN_ACCOUNT", required=False),
    }

    def probe(self):
        key = self.config["api_key"]
        if key != SECRET:
            raise ServiceError(
                f"Key {key} was rejected", error_code="authentication_error", status=401
            )
        return {"account": self.config.get("account")}


@pytest.fixture
def service(db):
    service, _ = ExternalService.objects.update_or_create(
        provider=PROVIDER,
        defaults={"name": "Acme", "enabled": True, "credentials": {}, "options": {}},
    )
    return service


@pytest.fixture
def live(settings):
    settings.PATCHBAY_SIMULATE = False


def store(service, **credentials):
    service.credentials = credentials
    service.save()


def raw_credentials(service):
    table = connection.ops.quote_name(ExternalService._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {table} WHERE id = %s", [service.pk])  # noqa: S608
        return cursor.fetchone()[0]


def change_url(service):
    return reverse("admin:patchbay_externalservice_change", args=[service.pk])


def change_data(**overrides):
    data = {"name": "Acme", "enabled": "on", "secret__api_key": "", "option__account": ""}
    data.update(overrides)
    data["_save"] = "Save"
    return data


def run_action(admin_client, model, action, pks):
    url = reverse(f"admin:patchbay_{model}_changelist")
    return admin_client.post(url, {"action": action, "_selected_action": pks}, follow=True)


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


# -- ExternalService pages -------------------------------------------------------------


def test_changelist_shows_health_without_secrets(admin_client, service):
    store(service, api_key=SECRET)
    ExternalService.objects.filter(pk=service.pk).update(
        health_status="degraded", total_requests=4, failed_requests=1, consecutive_failures=2
    )

    response = admin_client.get(reverse("admin:patchbay_externalservice_changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert PROVIDER in content
    assert "Degraded" in content
    assert "75 %" in content
    assert SECRET not in content


def test_change_form_has_write_only_secret_inputs(admin_client, service):
    store(service, api_key=SECRET)
    service.options = {"account": "acct_42"}
    service.save()

    response = admin_client.get(change_url(service))

    assert response.status_code == 200
    content = response.content.decode()
    assert SECRET not in content
    assert 'type="password" name="secret__api_key"' in content
    assert "A value is stored — leave blank to keep it." in content
    assert 'name="clear__api_key"' in content
    assert 'name="option__account" value="acct_42"' in content
    assert 'name="options"' not in content


def test_change_form_without_stored_secret_offers_no_clear_checkbox(admin_client, service):
    response = admin_client.get(change_url(service))

    content = response.content.decode()
    assert "No value stored." in content
    assert "Blank uses settings.ACME_ADMIN_API_KEY." in content
    assert 'name="clear__api_key"' not in content


def test_add_form_lists_providers_and_shows_fields_of_the_chosen_one(admin_client, db):
    url = reverse("admin:patchbay_externalservice_add")

    plain = admin_client.get(url)
    chosen = admin_client.get(url, {"provider": PROVIDER})

    assert plain.status_code == chosen.status_code == 200
    assert f'href="?provider={PROVIDER}"' in plain.content.decode()
    assert 'name="options"' in plain.content.decode()
    assert 'type="password" name="secret__api_key"' in chosen.content.decode()
    assert f'value="{PROVIDER}"' in chosen.content.decode()


@pytest.mark.parametrize("provider", ["stripe", "twilio", "loops", "aws", PROVIDER])
def test_no_page_offers_a_test_mode(admin_client, db, provider):
    # Sandbox use is the credentials stored (test keys) or simulation, not a switch.
    service, _ = ExternalService.objects.get_or_create(provider=provider)
    pages = [
        reverse("admin:patchbay_externalservice_changelist"),
        change_url(service),
        reverse("admin:patchbay_externalservice_add") + f"?provider={provider}",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200
        content = response.content.decode().lower()
        assert "test_mode" not in content
        assert "test mode" not in content


def test_adding_a_service_encrypts_its_secret(admin_client, db):
    ExternalService.objects.filter(provider=PROVIDER).delete()
    url = reverse("admin:patchbay_externalservice_add") + f"?provider={PROVIDER}"

    response = admin_client.post(
        url,
        change_data(provider=PROVIDER, secret__api_key=SECRET, option__account="acct_1"),
    )

    assert response.status_code == 302
    service = ExternalService.objects.get(provider=PROVIDER)
    assert service.credentials == {"api_key": SECRET}
    assert service.options == {"account": "acct_1"}
    assert SECRET not in raw_credentials(service)


def test_saving_a_secret_stores_it_encrypted_and_never_logs_it(admin_client, service):
    response = admin_client.post(change_url(service), change_data(secret__api_key=SECRET))

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.credentials == {"api_key": SECRET}
    assert SECRET not in raw_credentials(service)
    entry = LogEntry.objects.filter(object_id=str(service.pk)).order_by("-pk").first()
    assert entry.get_change_message() == "Changed API key."
    assert SECRET not in entry.change_message
    history = admin_client.get(reverse("admin:patchbay_externalservice_history", args=[service.pk]))
    assert history.status_code == 200
    assert SECRET not in history.content.decode()


def test_blank_secret_keeps_the_stored_value(admin_client, service):
    store(service, api_key=SECRET)

    response = admin_client.post(change_url(service), change_data(option__account="acct_7"))

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.credentials == {"api_key": SECRET}
    assert service.options == {"account": "acct_7"}


def test_blank_option_removes_it_and_keeps_unknown_options(admin_client, service):
    service.options = {"account": "acct_7", "extra": "kept"}
    service.save()

    admin_client.post(change_url(service), change_data(option__account=""))

    service.refresh_from_db()
    assert service.options == {"extra": "kept"}


def test_clear_checkbox_deletes_the_stored_secret(admin_client, service):
    store(service, api_key=SECRET)

    response = admin_client.post(change_url(service), change_data(clear__api_key="on"))

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.credentials == {}


def test_new_value_and_clear_together_is_an_error_that_does_not_echo_the_value(
    admin_client, service
):
    store(service, api_key=SECRET)

    response = admin_client.post(
        change_url(service), change_data(secret__api_key=WRONG_SECRET, clear__api_key="on")
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "not both" in content
    assert WRONG_SECRET not in content
    assert SECRET not in content
    service.refresh_from_db()
    assert service.credentials == {"api_key": SECRET}


def test_provider_without_client_edits_options_as_json(admin_client, db):
    legacy = ExternalService.objects.create(provider="legacy_admin", options={"region": "eu"})

    page = admin_client.get(change_url(legacy))
    response = admin_client.post(
        change_url(legacy), {"name": "Legacy", "options": '{"region": "us"}', "_save": "Save"}
    )

    assert 'name="options"' in page.content.decode()
    assert "secret__" not in page.content.decode()
    assert response.status_code == 302
    legacy.refresh_from_db()
    assert legacy.options == {"region": "us"}
    assert legacy.enabled is False  # the checkbox was not submitted


# -- ExternalService actions -----------------------------------------------------------


def test_test_connection_success_records_a_check_and_health(admin_client, service, live):
    store(service, api_key=SECRET)

    response = run_action(admin_client, "externalservice", "test_connection", [service.pk])

    check = HealthCheck.objects.get(service=service)
    assert check.status == HealthCheck.Status.SUCCESS
    assert check.simulated is False
    service.refresh_from_db()
    assert service.health_status == ExternalService.HealthStatus.HEALTHY
    assert service.last_checked_at is not None
    assert service.last_success_at is not None
    [message] = page_messages(response)
    assert message.startswith("Acme: connection OK in ")
    assert "(live)" in message


def test_test_connection_failure_reports_the_redacted_error(admin_client, service, live):
    store(service, api_key=WRONG_SECRET)

    response = run_action(admin_client, "externalservice", "test_connection", [service.pk])

    check = HealthCheck.objects.get(service=service)
    assert check.status == HealthCheck.Status.FAILURE
    service.refresh_from_db()
    assert service.health_status == ExternalService.HealthStatus.DEGRADED
    assert service.consecutive_failures == 1
    [message] = page_messages(response)
    assert message == "Acme: connection failed (live): Key *** was rejected"
    assert WRONG_SECRET not in response.content.decode()


def test_test_connection_simulated(admin_client, service, settings):
    settings.PATCHBAY_SIMULATE = True

    response = run_action(admin_client, "externalservice", "test_connection", [service.pk])

    check = HealthCheck.objects.get(service=service)
    assert check.status == HealthCheck.Status.SUCCESS
    assert check.simulated is True
    assert "(simulated)" in page_messages(response)[0]


def test_test_connection_without_client_warns(admin_client, db):
    legacy = ExternalService.objects.create(provider="legacy_admin", name="Legacy")

    response = run_action(admin_client, "externalservice", "test_connection", [legacy.pk])

    assert page_messages(response) == [
        "Legacy: no client is installed for provider 'legacy_admin'."
    ]
    assert not HealthCheck.objects.filter(service=legacy).exists()


def test_disable_and_enable_actions_reach_clients_at_once(admin_client, service):
    assert AcmeAdminClient().config.disabled_in_admin is False  # caches the row

    response = run_action(admin_client, "externalservice", "disable", [service.pk])

    assert page_messages(response) == ["1 service disabled."]
    service.refresh_from_db()
    assert service.enabled is False
    assert AcmeAdminClient().config.disabled_in_admin is True
    entry = LogEntry.objects.filter(object_id=str(service.pk)).order_by("-pk").first()
    assert entry.get_change_message() == "Changed Enabled."

    run_action(admin_client, "externalservice", "enable", [service.pk])

    service.refresh_from_db()
    assert service.enabled is True
    assert AcmeAdminClient().config.disabled_in_admin is False


def test_undecryptable_credentials_leave_the_list_and_actions_usable(
    admin_client, service, settings
):
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    store(service, api_key=SECRET)
    settings.PATCHBAY_ENCRYPTION_KEYS = None  # back to the SECRET_KEY-derived key

    changelist = admin_client.get(reverse("admin:patchbay_externalservice_changelist"))
    tested = run_action(admin_client, "externalservice", "test_connection", [service.pk])
    disabled = run_action(admin_client, "externalservice", "disable", [service.pk])

    assert changelist.status_code == 200
    [message] = page_messages(tested)
    assert message.startswith("Acme: connection failed (live): The Acme Admin credentials")
    assert "cannot be decrypted" in message
    assert page_messages(disabled) == ["1 service disabled."]


@pytest.fixture
def unreadable(service, settings):
    """The service's credentials, stored under a key that is configured no more."""
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    store(service, api_key=SECRET)
    settings.PATCHBAY_ENCRYPTION_KEYS = None
    return raw_credentials(service)


def test_the_change_page_of_undecryptable_credentials_opens(admin_client, service, unreadable):
    response = admin_client.get(change_url(service))

    assert response.status_code == 200
    content = response.content.decode()
    assert "cannot be decrypted with any configured key" in content
    assert "patchbay_rotate_keys" in content
    assert 'type="password" name="secret__api_key"' in content
    assert 'name="clear__api_key"' not in content  # which values it holds is unknown
    assert "The stored credentials cannot be read: enter it again." in content
    assert "No value stored." not in content
    assert unreadable not in content


def test_saving_without_new_credentials_keeps_the_unreadable_ones(
    admin_client, service, unreadable
):
    response = admin_client.post(change_url(service), change_data(name="Acme Corp"))

    assert response.status_code == 302
    assert ExternalService.objects.filter(pk=service.pk, name="Acme Corp").exists()
    assert raw_credentials(service) == unreadable  # for the old key, once it is back


def test_entering_the_credentials_again_replaces_the_unreadable_ones(
    admin_client, service, unreadable
):
    response = admin_client.post(change_url(service), change_data(secret__api_key=WRONG_SECRET))

    assert response.status_code == 302
    assert ExternalService.objects.get(pk=service.pk).credentials == {"api_key": WRONG_SECRET}
    assert AcmeAdminClient().config.credentials_unreadable is False


# -- read-only history admins ----------------------------------------------------------


@pytest.fixture
def history(service):
    log = IntegrationLog.objects.create(
        provider=PROVIDER,
        operation="charge",
        success=False,
        error_code="card_declined",
        request_summary={"amount": 500, "nested": {"currency": "eur"}},
    )
    check = HealthCheck.objects.create(service=service, status=HealthCheck.Status.SUCCESS)
    event = WebhookEvent.objects.create(
        provider=PROVIDER,
        event_id="evt_1",
        event_type="thing.happened",
        payload={"id": "evt_1", "data": {"amount": 500}},
        status=WebhookEvent.Status.FAILED,
    )
    return {"integrationlog": log, "healthcheck": check, "webhookevent": event}


READ_ONLY_MODELS = ["integrationlog", "healthcheck", "webhookevent"]


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_read_only_admins_cannot_add_or_change_but_can_view(admin_client, history, model):
    obj = history[model]

    changelist = admin_client.get(reverse(f"admin:patchbay_{model}_changelist"))
    add = admin_client.get(reverse(f"admin:patchbay_{model}_add"))
    view = admin_client.get(reverse(f"admin:patchbay_{model}_change", args=[obj.pk]))

    assert changelist.status_code == 200
    assert add.status_code == 403
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    post = admin_client.post(reverse(f"admin:patchbay_{model}_change", args=[obj.pk]), {})
    assert post.status_code == 403


@pytest.mark.parametrize("model", READ_ONLY_MODELS)
def test_only_superusers_may_delete_history(admin_user, django_user_model, history, model):
    model_admin = site._registry[type(history[model])]
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=[f"view_{model}", f"delete_{model}"])
    )
    staff_request = RequestFactory().get("/")
    staff_request.user = staff
    admin_request = RequestFactory().get("/")
    admin_request.user = admin_user

    assert model_admin.has_delete_permission(admin_request, history[model]) is True
    assert model_admin.has_delete_permission(staff_request, history[model]) is False
    assert model_admin.has_view_permission(staff_request, history[model]) is True


def test_webhook_payload_and_log_summary_are_pretty_printed(admin_client, history):
    event = admin_client.get(
        reverse("admin:patchbay_webhookevent_change", args=[history["webhookevent"].pk])
    )
    log = admin_client.get(
        reverse("admin:patchbay_integrationlog_change", args=[history["integrationlog"].pk])
    )

    assert "<pre" in event.content.decode()
    assert "  &quot;data&quot;: {\n    &quot;amount&quot;: 500\n  }" in event.content.decode()
    assert "  &quot;nested&quot;: {\n    &quot;currency&quot;: &quot;eur&quot;\n  }" in (
        log.content.decode()
    )


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("integrationlog", {"error_code": "card_declined"}, "charge: card_declined"),
        ("integrationlog", {"q": "refund"}, "refund: ok"),
        ("integrationlog", {"success__exact": "1"}, "refund: ok"),
        ("webhookevent", {"status__exact": "failed"}, "evt_1"),
        ("webhookevent", {"q": "evt_2"}, "evt_2"),
        ("healthcheck", {"status__exact": "timeout"}, " timeout at "),
        ("healthcheck", {"service__provider": "bulk-x"}, " success at "),
    ],
)
def test_history_filters_and_search(admin_client, history, model, query, expected):
    IntegrationLog.objects.create(provider=PROVIDER, operation="refund", success=True)
    WebhookEvent.objects.create(
        provider=PROVIDER, event_id="evt_2", status=WebhookEvent.Status.PROCESSED
    )
    HealthCheck.objects.create(service=history["healthcheck"].service, status="timeout")
    other = ExternalService.objects.create(provider="bulk-x")
    HealthCheck.objects.create(service=other, status="success")

    response = admin_client.get(reverse(f"admin:patchbay_{model}_changelist"), query)

    assert response.status_code == 200
    [row] = response.context["cl"].result_list
    assert expected in str(row)


# -- query counts ----------------------------------------------------------------------


def make_rows(model, start, stop):
    services = ExternalService.objects.bulk_create(
        ExternalService(provider=f"bulk-{i}", name=f"Bulk {i}") for i in range(start, stop)
    )
    if model == "healthcheck":
        HealthCheck.objects.bulk_create(
            HealthCheck(service=service, status="failure", error="boom") for service in services
        )
    elif model == "integrationlog":
        IntegrationLog.objects.bulk_create(
            IntegrationLog(provider=f"p{i % 3}", operation="op", success=bool(i % 2))
            for i in range(start, stop)
        )
    elif model == "webhookevent":
        WebhookEvent.objects.bulk_create(
            WebhookEvent(provider="p", event_id=f"evt_{i}", event_type=f"t{i % 4}")
            for i in range(start, stop)
        )


@pytest.mark.parametrize("model", ["externalservice", *READ_ONLY_MODELS])
def test_changelists_use_a_constant_number_of_queries(admin_client, db, model):
    url = reverse(f"admin:patchbay_{model}_changelist")
    assert_constant_queries(admin_client, url, lambda start, stop: make_rows(model, start, stop))


# -- date hierarchy ------------------------------------------------------------------------


def log_at(*moments):
    for moment in moments:
        log = IntegrationLog.objects.create(provider="p", operation="op", success=True)
        IntegrationLog.objects.filter(pk=log.pk).update(created_at=moment)


def hierarchy(admin_client, **query):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:patchbay_integrationlog_changelist"), query)
    assert response.status_code == 200
    # The date hierarchy never scans every row for its periods: no DISTINCT on the date.
    assert not [q for q in queries if "DISTINCT" in q["sql"] and "created_at" in q["sql"]]
    # Not response.context["choices"]: that is the first rendered template's with such a key,
    # and list filters have "choices" too (Django 6.0 renders them before the hierarchy).
    rendered = dict(zip((t.name for t in response.templates), response.context, strict=True))
    return [choice["title"] for choice in rendered["admin/date_hierarchy.html"]["choices"]]


def test_date_hierarchy_offers_the_periods_of_the_rows(admin_client):
    utc = dt.timezone.utc
    log_at(dt.datetime(2025, 11, 30, 23, tzinfo=utc), dt.datetime(2026, 2, 1, 1, tzinfo=utc))

    assert hierarchy(admin_client) == ["2025", "2026"]
    assert hierarchy(admin_client, created_at__year="2025") == ["November 2025"]
    assert hierarchy(admin_client, created_at__year="2026", created_at__month="2") == ["February 1"]


def test_date_hierarchy_drills_down_a_single_month(admin_client):
    utc = dt.timezone.utc
    log_at(dt.datetime(2026, 3, 30, tzinfo=utc), dt.datetime(2026, 3, 28, tzinfo=utc))

    assert hierarchy(admin_client) == ["March 28", "March 29", "March 30"]


def test_date_hierarchy_of_an_empty_table(admin_client):
    assert hierarchy(admin_client) == []


# -- webhook reprocessing --------------------------------------------------------------


@pytest.fixture
def handler():
    calls = []

    def handle(event):
        calls.append(event.event_id)
        if event.payload.get("explode"):
            raise ValueError("handler exploded")

    webhook_registry.receiver(PROVIDER, "thing.happened")(handle)
    yield calls
    webhook_registry.disconnect(PROVIDER, "thing.happened", handle)


def test_reprocess_action_runs_handlers_and_reports_statuses(admin_client, history, handler):
    event = history["webhookevent"]
    broken = WebhookEvent.objects.create(
        provider=PROVIDER,
        event_id="evt_bad",
        event_type="thing.happened",
        payload={"explode": True},
        status=WebhookEvent.Status.FAILED,
    )

    response = run_action(admin_client, "webhookevent", "reprocess_events", [event.pk, broken.pk])

    assert sorted(handler) == ["evt_1", "evt_bad"]
    event.refresh_from_db()
    broken.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.processed_at is not None
    assert broken.status == WebhookEvent.Status.FAILED
    assert broken.attempts == 1
    assert page_messages(response) == [
        f"{broken} failed again: ValueError: handler exploded",
        "Reprocessed 2 events: 1 Failed, 1 Processed.",
    ]


def test_reprocess_action_needs_change_permission(client, django_user_model, history):
    staff = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_webhookevent"))
    client.force_login(staff)

    response = client.get(reverse("admin:patchbay_webhookevent_changelist"))

    assert response.status_code == 200
    assert "reprocess_events" not in response.content.decode()
    assert history["webhookevent"].received_at <= timezone.now()
