from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from patchbay.models import Upload
from tests.conftest import assert_constant_queries

pytestmark = pytest.mark.django_db

STATUSES = [Upload.STATUS_COMPLETE, Upload.STATUS_PENDING, Upload.STATUS_FAILED]
CHANGELIST = reverse("admin:patchbay_upload_changelist")


def rows(django_user_model, start, stop):
    for i in range(start, stop):
        owner = django_user_model.objects.create_user(f"owner{i}", f"o{i}@example.com", "pw")
        Upload.objects.create(
            key=f"uploads/{i:032x}/file-{i}.png",
            bucket="media",
            original_filename=f"Holiday photo {i}.png" if i % 2 else f"scan-{i}.pdf",
            content_type="image/png" if i % 2 else "application/pdf",
            size=2048 * (i + 1) if STATUSES[i % 3] == Upload.STATUS_COMPLETE else None,
            max_size=10 * 1024 * 1024,
            status=STATUSES[i % 3],
            public=i % 4 == 0,
            simulated=i % 5 == 0,
            owner=owner,
            metadata={"album": f"trip-{i}"},
        )


def test_changelist_renders_with_a_constant_number_of_queries(admin_client, django_user_model):
    assert_constant_queries(
        admin_client, CHANGELIST, lambda start, stop: rows(django_user_model, start, stop)
    )


def test_changelist_shows_owner_status_and_size(admin_client, django_user_model):
    rows(django_user_model, 0, 3)
    page = admin_client.get(CHANGELIST).content.decode()
    assert ">Complete</span>" in page
    assert ">Pending</span>" in page
    assert ">Failed</span>" in page
    assert "owner1" in page
    assert "Holiday photo 1.png" in page
    assert "2.0\xa0KB" in page  # upload 0 is complete: 2048 bytes


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=holiday", {"Holiday photo 1.png", "Holiday photo 3.png"}),
        ("q=file-2.png", {"scan-2.pdf"}),
    ],
)
def test_search_by_filename_and_key(admin_client, django_user_model, query, expected):
    rows(django_user_model, 0, 4)
    response = admin_client.get(CHANGELIST + "?" + query)
    assert {upload.original_filename for upload in response.context["cl"].result_list} == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=failed", {2, 5}),
        ("public__exact=1", {0, 4}),
        ("simulated__exact=1", {0, 5}),
        ("content_type__exact=application/pdf", {0, 2, 4}),
    ],
)
def test_filters(admin_client, django_user_model, query, expected):
    rows(django_user_model, 0, 6)
    response = admin_client.get(CHANGELIST + "?" + query)
    assert {
        int(upload.owner.username.removeprefix("owner"))
        for upload in response.context["cl"].result_list
    } == expected


def test_uploads_are_read_only_and_show_their_metadata(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    upload = Upload.objects.get()
    assert admin_client.get(reverse("admin:patchbay_upload_add")).status_code == 403
    page = admin_client.get(reverse("admin:patchbay_upload_change", args=[upload.pk]))
    assert page.status_code == 200
    assert upload.key.encode() in page.content
    assert b"&quot;album&quot;: &quot;trip-0&quot;" in page.content
    assert b'name="status"' not in page.content
    assert b'name="key"' not in page.content


def test_superusers_delete_upload_records(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    url = reverse("admin:patchbay_upload_delete", args=[Upload.objects.get().pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Upload.objects.exists()


def test_staff_cannot_delete_uploads(client, django_user_model):
    rows(django_user_model, 0, 1)
    staff = django_user_model.objects.create_user("staff", "s@example.com", "pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="patchbay", codename__in=["view_upload", "delete_upload"]
        )
    )
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 200
    url = reverse("admin:patchbay_upload_delete", args=[Upload.objects.get().pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Upload.objects.exists()
