from __future__ import annotations

import pytest
from django.urls import reverse

from patchbay.models import SMS, PhoneOptOut
from tests.conftest import assert_constant_queries

pytestmark = pytest.mark.django_db

STATUSES = ["delivered", "failed", "queued", "received"]


def rows(django_user_model, start, stop):
    for i in range(start, stop):
        user = django_user_model.objects.create_user(f"user{i}", f"u{i}@example.com", "pw")
        SMS.objects.create(
            to_number=f"+1415555{i:04d}",
            from_number="+14155550100",
            body=f"Message number {i}",
            status=STATUSES[i % len(STATUSES)],
            external_id=f"SM{i:032d}",
            error_code="30003" if i % len(STATUSES) == 1 else "",
            user=user,
        )
        PhoneOptOut.objects.create(phone_number=f"+1415666{i:04d}", keyword="STOP")


@pytest.mark.parametrize("model", ["sms", "phoneoptout"])
def test_changelists_render_with_a_constant_number_of_queries(
    admin_client, django_user_model, model
):
    url = reverse(f"admin:patchbay_{model}_changelist")
    assert_constant_queries(
        admin_client, url, lambda start, stop: rows(django_user_model, start, stop)
    )


def test_sms_changelist_shows_status_badges_and_users(admin_client, django_user_model):
    rows(django_user_model, 0, 2)
    page = admin_client.get(reverse("admin:patchbay_sms_changelist")).content.decode()
    assert ">delivered</span>" in page
    assert ">failed</span>" in page
    assert "30003" in page
    assert "user1" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=%2B14155550001", {"+14155550001"}), ("q=SM" + "0" * 31 + "2", {"+14155550002"})],
)
def test_sms_search_by_number_and_sid(admin_client, django_user_model, query, expected):
    rows(django_user_model, 0, 4)
    response = admin_client.get(reverse("admin:patchbay_sms_changelist") + "?" + query)
    assert {sms.to_number for sms in response.context["cl"].result_list} == expected


def test_sms_filters(admin_client, django_user_model):
    rows(django_user_model, 0, 8)
    SMS.objects.filter(status="received").update(direction=SMS.DIRECTION_INBOUND)
    url = reverse("admin:patchbay_sms_changelist")
    response = admin_client.get(url + "?direction__exact=inbound&status=received")
    assert {sms.status for sms in response.context["cl"].result_list} == {"received"}
    assert len(response.context["cl"].result_list) == 2


def test_messages_are_read_only_but_show_their_body(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    sms = SMS.objects.get()
    assert admin_client.get(reverse("admin:patchbay_sms_add")).status_code == 403
    page = admin_client.get(reverse("admin:patchbay_sms_change", args=[sms.pk]))
    assert page.status_code == 200
    assert b"Message number 0" in page.content
    assert b'name="status"' not in page.content
    assert b'name="body"' not in page.content


def test_deleting_an_opt_out_opts_the_number_back_in(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    opt_out = PhoneOptOut.objects.get()
    assert admin_client.get(reverse("admin:patchbay_phoneoptout_add")).status_code == 403
    url = reverse("admin:patchbay_phoneoptout_delete", args=[opt_out.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not PhoneOptOut.objects.exists()


def test_only_superusers_delete_opt_outs(client, django_user_model):
    rows(django_user_model, 0, 1)
    staff = django_user_model.objects.create_user("staff", "s@example.com", "pw", is_staff=True)
    staff.user_permissions.add(*_permissions("view_phoneoptout", "delete_phoneoptout"))
    client.force_login(staff)
    opt_out = PhoneOptOut.objects.get()
    url = reverse("admin:patchbay_phoneoptout_delete", args=[opt_out.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert PhoneOptOut.objects.exists()


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="patchbay", codename__in=codenames)
