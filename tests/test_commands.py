from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patchbay.core import registry
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.exceptions import ServiceError
from patchbay.management.commands import patchbay_rotate_keys
from patchbay.models import (
    ExternalService,
    HealthCheck,
    IntegrationLog,
    LoginToken,
    PhoneVerification,
    WebhookEvent,
)
from patchbay.webhooks import registry as webhook_registry

PROVIDER = "acme_cmd"
SECRET = "sk_acme_cmd_0123456789abcdef"


class AcmeCmdClient(BaseClient):
    provider = PROVIDER
    display_name = "Acme Cmd"
    config_fields = {
        "api_key": ConfigField(setting="ACME_CMD_API_KEY", secret=True),
        "account": ConfigField(setting="ACME_CMD_ACCOUNT"),
        "region": ConfigField(setting="ACME_CMD_REGION", required=False, default="eu"),
    }

    def probe(self):
        if self.config["api_key"] != SECRET:
            raise ServiceError("Invalid API key", error_code="authentication_error", status=401)
        return {"ok": True}


def run(*args):
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue()


@pytest.fixture
def only_acme(monkeypatch):
    """Other test modules register clients too: the commands see only this one."""
    monkeypatch.setattr(registry, "client_classes", lambda: [AcmeCmdClient])


@pytest.fixture
def service(db):
    service, _ = ExternalService.objects.update_or_create(
        provider=PROVIDER, defaults={"name": "Acme", "enabled": True, "credentials": {}}
    )
    return service


@pytest.fixture
def configured(service, settings):
    settings.PATCHBAY_SIMULATE = False
    settings.ACME_CMD_ACCOUNT = "acct_settings"
    service.credentials = {"api_key": SECRET}
    service.save()
    return service


# -- patchbay_status -------------------------------------------------------------------


def test_status_shows_sources_never_values(configured, only_acme):
    output = run("patchbay_status")

    assert "acme_cmd (Acme Cmd)" in output
    assert "mode: live" in output
    assert "enabled: yes" in output
    assert "SDK installed: yes" in output
    assert "missing configuration: none" in output
    assert "missing for live use" not in output
    assert (
        "ACME_CMD_API_KEY from database, ACME_CMD_ACCOUNT from settings, "
        "ACME_CMD_REGION from default"
    ) in output
    assert "health: unknown" in output
    assert "circuit breaker: closed" in output
    assert SECRET not in output
    assert "acct_settings" not in output
    assert "probe" not in output
    assert not HealthCheck.objects.exists()


def test_status_reports_missing_configuration_and_disabled_service(service, settings, only_acme):
    settings.PATCHBAY_SIMULATE = True
    service.enabled = False
    service.save()

    output = run("patchbay_status")

    assert "mode: simulated" in output
    assert "enabled: no (Acme Cmd is disabled in the admin (ExternalService).)" in output
    assert "missing configuration: none (simulated: no credentials needed)" in output
    assert "missing for live use: ACME_CMD_API_KEY, ACME_CMD_ACCOUNT" in output


def test_status_live_names_the_missing_settings(service, settings, only_acme):
    settings.PATCHBAY_SIMULATE = False

    output = run("patchbay_status")

    assert "mode: live" in output
    assert "missing configuration: ACME_CMD_API_KEY, ACME_CMD_ACCOUNT" in output
    assert "missing for live use" not in output


def test_status_probe_success(configured, only_acme):
    output = run("patchbay_status", "--probe")

    assert "probe: success in " in output
    check = HealthCheck.objects.get(service=configured)
    assert check.status == HealthCheck.Status.SUCCESS
    assert "health: healthy, success rate 100 %" in output


def test_status_probe_failure_exits_non_zero(configured, only_acme):
    configured.credentials = {"api_key": "sk_acme_cmd_wrong_0000"}
    configured.save()
    stdout = StringIO()

    with pytest.raises(CommandError, match=r"Health probe failed for: acme_cmd\."):
        call_command("patchbay_status", "--probe", stdout=stdout)

    assert "probe: failure in " in stdout.getvalue()
    assert "Invalid API key" in stdout.getvalue()
    assert "sk_acme_cmd_wrong_0000" not in stdout.getvalue()
    assert HealthCheck.objects.get(service=configured).status == HealthCheck.Status.FAILURE


def test_status_json(configured, only_acme):
    output = run("patchbay_status", "--json", "--probe")

    [acme] = json.loads(output)["services"]
    assert acme["provider"] == PROVIDER
    assert acme["mode"] == "live"
    assert acme["sources"] == {
        "ACME_CMD_API_KEY": "database",
        "ACME_CMD_ACCOUNT": "settings",
        "ACME_CMD_REGION": "default",
    }
    assert acme["missing"] == []
    assert acme["missing_for_live"] == []
    assert acme["breaker"] == "closed"
    assert acme["probe"]["status"] == "success"
    assert acme["probe"]["simulated"] is False
    assert SECRET not in output


def test_status_fails_clearly_on_undecryptable_credentials(service, settings, only_acme):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_UNKNOWN]
    service.credentials = {"api_key": SECRET}
    service.save()
    settings.PATCHBAY_ENCRYPTION_KEYS = None

    with pytest.raises(CommandError, match="could not be decrypted"):
        run("patchbay_status")


def test_status_lists_every_registered_service(db):
    output = run("patchbay_status", "--json")

    providers = [service["provider"] for service in json.loads(output)["services"]]
    assert PROVIDER in providers
    assert providers == sorted(providers)


# -- patchbay_prune --------------------------------------------------------------------


def age(queryset, field, days):
    queryset.update(**{field: timezone.now() - timedelta(days=days)})


@pytest.fixture
def aged_rows(service, django_user_model):
    """For each kind of row, one that is 400 days old and one from today."""
    user = django_user_model.objects.create_user("aged")
    for days in (400, 0):
        log = IntegrationLog.objects.create(provider=PROVIDER, operation=f"op{days}", success=True)
        age(IntegrationLog.objects.filter(pk=log.pk), "created_at", days)
        check = HealthCheck.objects.create(service=service, status="success")
        age(HealthCheck.objects.filter(pk=check.pk), "checked_at", days)
        verification = PhoneVerification.objects.create(
            phone_number=f"+1415555{days:04d}", expires_at=timezone.now()
        )
        age(PhoneVerification.objects.filter(pk=verification.pk), "created_at", days)
        token = LoginToken.objects.create(
            user=user, token_hash=f"{days:064d}", expires_at=timezone.now()
        )
        age(LoginToken.objects.filter(pk=token.pk), "created_at", days)
        for status in WebhookEvent.Status.values:
            event = WebhookEvent.objects.create(
                provider=PROVIDER, event_id=f"evt_{status}_{days}", status=status
            )
            age(WebhookEvent.objects.filter(pk=event.pk), "received_at", days)


def test_prune_deletes_old_rows_but_keeps_events_needing_attention(aged_rows):
    output = run("patchbay_prune")

    assert "Deleted 1 integration logs" in output
    assert "Deleted 1 health checks" in output
    assert "Deleted 1 phone verifications" in output
    assert "Deleted 1 login tokens" in output
    assert LoginToken.objects.get().token_hash == "0" * 64
    assert "Deleted 2 processed or ignored webhook events" in output
    assert list(IntegrationLog.objects.values_list("operation", flat=True)) == ["op0"]
    assert list(PhoneVerification.objects.values_list("phone_number", flat=True)) == [
        "+14155550000"
    ]
    assert HealthCheck.objects.count() == 1
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == sorted(
        [f"evt_{status}_0" for status in WebhookEvent.Status.values]
        + ["evt_dead_400", "evt_failed_400", "evt_malformed_400", "evt_received_400"]
    )


def test_prune_follows_the_retention_settings(aged_rows, settings):
    settings.PATCHBAY_LOG_RETENTION_DAYS = 500
    settings.PATCHBAY_WEBHOOK_RETENTION_DAYS = 100

    output = run("patchbay_prune")

    assert "Deleted 0 integration logs" in output
    assert "Deleted 2 processed or ignored webhook events" in output
    assert IntegrationLog.objects.count() == 2


def test_prune_days_overrides_both_settings(aged_rows, settings):
    settings.PATCHBAY_LOG_RETENTION_DAYS = 1000
    settings.PATCHBAY_WEBHOOK_RETENTION_DAYS = 1000

    run("patchbay_prune", "--days", "10")

    assert IntegrationLog.objects.count() == 1
    # aged_rows: a new and an old event of each status; the 2 old settled ones went.
    assert WebhookEvent.objects.count() == 2 * len(WebhookEvent.Status.values) - 2


def test_prune_dry_run_only_counts(aged_rows):
    output = run("patchbay_prune", "--dry-run")

    assert "Would delete 1 integration logs" in output
    assert "Would delete 2 processed or ignored webhook events" in output
    assert IntegrationLog.objects.count() == 2
    assert WebhookEvent.objects.count() == 2 * len(WebhookEvent.Status.values)


def test_prune_deletes_in_batches(service):
    IntegrationLog.objects.bulk_create(
        IntegrationLog(provider=PROVIDER, operation="op", success=True) for _ in range(5)
    )
    age(IntegrationLog.objects.all(), "created_at", 400)

    with CaptureQueriesContext(connection) as queries:
        output = run("patchbay_prune", "--batch-size", "2")

    assert "Deleted 5 integration logs" in output
    assert not IntegrationLog.objects.exists()
    deletes = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("DELETE") and "integrationlog" in query["sql"]
    ]
    assert len(deletes) == 3


def test_prune_rejects_negative_days(db):
    with pytest.raises(CommandError, match="--days"):
        run("patchbay_prune", "--days", "-1")


# -- patchbay_rotate_keys --------------------------------------------------------------

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_UNKNOWN = Fernet.generate_key().decode()


def raw_token(pk):
    table = connection.ops.quote_name(ExternalService._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def encrypted_with_a(db, settings):
    # Rows made at migration time use the SECRET_KEY-derived key: start from none.
    ExternalService.objects.all().delete()
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    return ExternalService.objects.create(provider=PROVIDER, credentials={"api_key": SECRET})


def test_rotate_keys_re_encrypts_under_the_newest_key(encrypted_with_a, settings):
    before = raw_token(encrypted_with_a.pk)
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = run("patchbay_rotate_keys")

    assert "patchbay.ExternalService.credentials: 1 rotated, 0 already current." in output
    after = raw_token(encrypted_with_a.pk)
    assert after != before
    assert SECRET not in after
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    assert ExternalService.objects.get(pk=encrypted_with_a.pk).credentials == {"api_key": SECRET}
    assert "0 rotated, 1 already current." in run("patchbay_rotate_keys")


def test_rotate_keys_reads_large_tables_in_chunks(encrypted_with_a, settings, monkeypatch):
    monkeypatch.setattr(patchbay_rotate_keys, "CHUNK_SIZE", 2)
    for number in range(4):
        ExternalService.objects.create(provider=f"acme_cmd_{number}", credentials={"n": number})
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = run("patchbay_rotate_keys")

    assert "5 values rotated." in output
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    assert sorted(
        service.credentials.get("n", -1) for service in ExternalService.objects.all()
    ) == [-1, 0, 1, 2, 3]


def test_rotation_never_overwrites_a_value_saved_meanwhile(encrypted_with_a):
    field = ExternalService._meta.get_field("credentials")
    before = raw_token(encrypted_with_a.pk)

    replaced = patchbay_rotate_keys._replace_token(
        ExternalService.objects.all(), field, encrypted_with_a.pk, "a-token-read-earlier", "new"
    )

    assert replaced is False
    assert raw_token(encrypted_with_a.pk) == before


def test_rotate_keys_dry_run_changes_nothing(encrypted_with_a, settings):
    before = raw_token(encrypted_with_a.pk)
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = run("patchbay_rotate_keys", "--dry-run")

    assert "1 would be rotated" in output
    assert raw_token(encrypted_with_a.pk) == before


def test_rotate_keys_fails_on_values_no_key_decrypts_and_keeps_them(encrypted_with_a, settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_UNKNOWN]
    lost = ExternalService.objects.create(provider="acme_cmd_lost", credentials={"k": "v"})
    lost_token = raw_token(lost.pk)
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    stdout, stderr = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 values could not be decrypted"):
        call_command("patchbay_rotate_keys", stdout=stdout, stderr=stderr)

    assert f"patchbay.ExternalService.credentials pk={lost.pk}" in stderr.getvalue()
    assert raw_token(lost.pk) == lost_token
    # The readable row was still rotated.
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    assert ExternalService.objects.get(pk=encrypted_with_a.pk).credentials == {"api_key": SECRET}


# -- patchbay_reprocess_webhooks -------------------------------------------------------


@pytest.fixture
def handled():
    calls = []

    def handle(event):
        calls.append(event.event_id)
        if event.payload.get("explode"):
            raise ValueError("still broken")

    webhook_registry.receiver(PROVIDER, "thing.happened", "other.thing")(handle)
    yield calls
    webhook_registry.disconnect(PROVIDER, "thing.happened", handle)
    webhook_registry.disconnect(PROVIDER, "other.thing", handle)


@pytest.fixture
def events(db):
    def make(event_id, status, event_type="thing.happened", **payload):
        return WebhookEvent.objects.create(
            provider=PROVIDER,
            event_id=event_id,
            event_type=event_type,
            status=status,
            payload=payload,
        )

    return {
        "failed": make("evt_failed", "failed"),
        "other": make("evt_other", "failed", event_type="other.thing"),
        "processed": make("evt_done", "processed"),
        "received": make("evt_received", "received"),
    }


def test_reprocess_defaults_to_failed_events(events, handled):
    output = run("patchbay_reprocess_webhooks")

    assert sorted(handled) == ["evt_failed", "evt_other"]
    assert f"evt_failed (pk {events['failed'].pk}): failed -> processed" in output
    assert WebhookEvent.objects.get(event_id="evt_failed").status == "processed"
    assert WebhookEvent.objects.get(event_id="evt_received").status == "received"


def test_reprocess_by_type(events, handled):
    run("patchbay_reprocess_webhooks", "--type", "other.thing")

    assert handled == ["evt_other"]


def test_reprocess_by_id_accepts_pks_and_event_ids_whatever_their_status(events, handled):
    output = run(
        "patchbay_reprocess_webhooks", "--id", str(events["processed"].pk), "--id", "evt_received"
    )

    assert sorted(handled) == ["evt_done", "evt_received"]
    assert "processed -> processed" in output
    assert "received -> processed" in output


def test_reprocess_by_status_and_provider(events, handled):
    WebhookEvent.objects.create(provider="elsewhere", event_id="evt_x", status="received")

    run("patchbay_reprocess_webhooks", "--status", "received", "--provider", PROVIDER)

    assert handled == ["evt_received"]


def test_reprocess_dry_run_lists_without_running(events, handled):
    output = run("patchbay_reprocess_webhooks", "--dry-run")

    assert handled == []
    assert "Would reprocess acme_cmd thing.happened evt_failed" in output
    assert WebhookEvent.objects.get(event_id="evt_failed").attempts == 0


def test_reprocess_fails_when_an_event_fails_again(events, handled):
    WebhookEvent.objects.filter(event_id="evt_failed").update(payload={"explode": True})
    stdout = StringIO()

    with pytest.raises(CommandError, match="1 of 2 events failed again"):
        call_command("patchbay_reprocess_webhooks", stdout=stdout)

    assert "evt_failed" in stdout.getvalue()
    assert "failed -> failed" in stdout.getvalue()
    event = WebhookEvent.objects.get(event_id="evt_failed")
    assert event.error == "ValueError: still broken"
    assert event.attempts == 1


def test_reprocess_with_nothing_matching(db):
    assert "No webhook events match." in run("patchbay_reprocess_webhooks", "--id", "nope")
