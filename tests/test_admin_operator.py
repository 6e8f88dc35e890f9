"""What an operator reads in the admin: human labels, meaningful fields, health with a reason."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from patchbay.admin.services import health_reason
from patchbay.core.config import ConfigField, field_label
from patchbay.core.registry import client_classes, get_client_class
from patchbay.models import ExternalService, HealthCheck
from tests.oauth2.clients import AcmeOAuthClient
from tests.test_admin import PROVIDER, SECRET, page_messages, run_action, store
from tests.test_example_project import run_example

# Words Django's capfirst of a setting's name leaves in their lowercase-acronym form.
ACRONYMS_MISWRITTEN = re.compile(
    r"\b(Aws|aws|Api|api|Sid|sid|Url|url|Id|id|Sms|sms|s3|Oauth2|oauth2)\b"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aws_s3_bucket_name", "AWS S3 bucket name"),
        ("api_key", "API key"),
        ("account_sid", "Account SID"),
        ("auth_token", "Auth token"),
        ("endpoint_url", "Endpoint URL"),
        ("oauth2_client_id", "OAuth2 client ID"),
        ("sms_sender", "SMS sender"),
    ],
)
def test_labels_are_made_with_acronyms_written_as_people_write_them(name, expected):
    assert field_label(name, ConfigField()) == expected


def test_an_explicit_label_wins():
    assert field_label("webhook_secret", ConfigField(label="Webhook signing secret")) == (
        "Webhook signing secret"
    )


def every_field():
    # The OAuth2 test clients register on import: their fields are the declaration's.
    assert AcmeOAuthClient.provider in {client_class.provider for client_class in client_classes()}
    return [
        (client_class.provider, name, field)
        for client_class in client_classes()
        for name, field in client_class.config_fields.items()
    ]


def test_no_label_of_any_provider_miswrites_an_acronym():
    labels = {(provider, name): field_label(name, field) for provider, name, field in every_field()}

    miswritten = {key: label for key, label in labels.items() if ACRONYMS_MISWRITTEN.search(label)}
    assert miswritten == {}
    assert labels[("aws", "aws_s3_bucket_name")] == "AWS S3 bucket name"
    assert labels[("stripe", "api_key")] == "API key"
    assert labels[("stripe", "webhook_secret")] == "Webhook signing secret"
    assert labels[("loops", "webhook_secret")] == "Webhook signing secret"
    assert labels[("twilio", "account_sid")] == "Account SID"
    assert labels[("twilio", "auth_token")] == "Auth token"
    assert labels[("acme_oauth", "oauth2_client_id")] == "OAuth2 client ID"
    assert labels[("acme_oauth", "oauth2_token_url")] == "OAuth2 token URL"


@pytest.mark.django_db
def test_the_admin_form_uses_the_labels(admin_client):
    response = admin_client.get(reverse("admin:patchbay_externalservice_add"), {"provider": "aws"})

    content = response.content.decode()
    assert ">AWS S3 bucket name:</label>" in content
    assert ">AWS secret access key:</label>" in content
    assert "Aws" not in content


# What each provider's admin form offers: what means something for it, nothing else.
COMMON = {"provider", "name", "enabled"}
FORM_FIELDS = {
    "stripe": {
        "secret__api_key",
        "secret__webhook_secret",
        "option__api_version",
        "option__api_base",
    },
    "twilio": {
        "option__account_sid",
        "secret__auth_token",
        "option__from_number",
        "option__messaging_service_sid",
        "option__whatsapp_from",
        "secret__webhook_signing_key",
    },
    "loops": {"secret__api_key", "secret__webhook_secret", "option__api_base"},
    "aws": {
        "option__aws_access_key_id",
        "secret__aws_secret_access_key",
        "option__aws_s3_bucket_name",
        "option__region_name",
        "option__endpoint_url",
    },
    "acme_oauth": {
        "option__oauth2_client_id",
        "secret__oauth2_client_secret",
        "option__oauth2_authorize_url",
        "option__oauth2_token_url",
        "option__oauth2_revocation_url",
        "option__oauth2_scopes",
        "option__api_url",  # the test client's own
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("provider", sorted(FORM_FIELDS))
def test_each_provider_form_has_only_its_meaningful_fields(admin_client, provider):
    assert get_client_class(provider) is not None
    response = admin_client.get(
        reverse("admin:patchbay_externalservice_add"), {"provider": provider}
    )

    form = response.context["adminform"].form
    assert set(form.fields) == COMMON | FORM_FIELDS[provider]
    shown = {
        name
        for fieldset in response.context["adminform"]
        for line in fieldset
        for name in line.fields
    }
    assert shown == set(form.fields)
    assert "test mode" not in response.content.decode().lower()


# -- health ------------------------------------------------------------------------------


@pytest.fixture
def acme(db):
    # Made as tests.test_admin's service fixture makes it: the row may exist already.
    acme, _ = ExternalService.objects.update_or_create(
        provider=PROVIDER,
        defaults={"name": "Acme", "enabled": True, "credentials": {}, "options": {}},
    )
    return acme


def health_page(admin_client):
    return admin_client.get(reverse("admin:patchbay_externalservice_changelist")).content.decode()


def test_a_service_never_called_is_unknown_and_says_so(admin_client, acme):
    assert health_reason(acme) == "No call or probe yet."
    assert "No call or probe yet." in health_page(admin_client)


def test_a_simulated_test_connection_makes_it_healthy_with_the_reason(admin_client, acme, settings):
    settings.PATCHBAY_SIMULATE = True

    run_action(admin_client, "externalservice", "test_connection", [acme.pk])

    acme.refresh_from_db()
    assert acme.health_status == ExternalService.HealthStatus.HEALTHY
    assert acme.total_requests == 0  # the counters are about live calls
    content = health_page(admin_client)
    assert "Healthy" in content
    assert "Simulated: no live call yet." in content


def test_simulated_calls_make_an_unknown_service_healthy(acme, settings):
    settings.PATCHBAY_SIMULATE = True
    client_class = get_client_class(PROVIDER)

    client_class().check_health()

    acme.refresh_from_db()
    assert acme.health_status == ExternalService.HealthStatus.HEALTHY
    assert (acme.total_requests, acme.last_success_at) == (0, None)


def test_simulated_calls_leave_a_failing_service_as_it_is(acme, settings):
    ExternalService.objects.filter(pk=acme.pk).update(
        health_status="down", consecutive_failures=5, last_error="Key *** was rejected"
    )
    settings.PATCHBAY_SIMULATE = True

    get_client_class(PROVIDER)().check_health()

    acme.refresh_from_db()
    assert acme.health_status == ExternalService.HealthStatus.DOWN
    assert health_reason(acme) == "5 failures in a row: Key *** was rejected"


def test_a_live_test_connection_says_when_the_probe_succeeded(admin_client, acme, settings):
    settings.PATCHBAY_SIMULATE = False
    store(acme, api_key=SECRET)

    response = run_action(admin_client, "externalservice", "test_connection", [acme.pk])

    assert page_messages(response)[0].startswith("Acme: connection OK")
    content = health_page(admin_client)
    assert "Healthy" in content
    assert "Last probe succeeded at " in content


def test_a_failed_test_connection_shows_its_error(admin_client, acme, settings):
    settings.PATCHBAY_SIMULATE = False
    store(acme, api_key="sk_not_the_right_one")

    run_action(admin_client, "externalservice", "test_connection", [acme.pk])

    content = health_page(admin_client)
    assert "Degraded" in content
    assert "1 failure in a row: Key *** was rejected" in content
    assert "sk_not_the_right_one" not in content


def test_a_live_call_after_the_probe_is_the_reason(acme):
    probed = timezone.now() - timezone.timedelta(hours=1)
    HealthCheck.objects.create(service=acme, status=HealthCheck.Status.SUCCESS, simulated=True)
    HealthCheck.objects.filter(service=acme).update(checked_at=probed)
    ExternalService.objects.filter(pk=acme.pk).update(
        health_status="healthy", total_requests=3, last_success_at=timezone.now()
    )
    from patchbay.admin.services import ExternalServiceAdmin

    admin = ExternalServiceAdmin(ExternalService, None)
    row = admin.get_queryset(type("Request", (), {"user": None})()).get(pk=acme.pk)

    assert health_reason(row).startswith("Last live call succeeded at ")


# -- the example's Twilio dev outbox -------------------------------------------------------


OUTBOX_FLOW = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from messaging.views import dev_outbox
from patchbay.core.client import BaseClient
from patchbay.core.registry import get_client_class
from patchbay.twilio.shortcuts import send_sms
send_sms("+14155552671", "Hi")
get_client_class("twilio")().check_health()
print(json.dumps([message["operation"] for message in dev_outbox()["outbox"]]))
"""


def test_the_twilio_dev_outbox_lists_messages_not_health_probes(tmp_path):
    completed = run_example(["-c", OUTBOX_FLOW], tmp_path / "db.sqlite3")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.splitlines()[-1]) == ["send_sms"]
