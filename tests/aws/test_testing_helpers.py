from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

import patchbay.testing
from patchbay.aws.shortcuts import complete_upload, get_direct_upload_form_data
from patchbay.aws.simulated import store
from patchbay.testing import post_presigned_form
from tests.urls import urlpatterns as test_urlpatterns

pytestmark = pytest.mark.django_db

received = []


@login_not_required  # posted to as S3 is, without a session
def echo(request):
    """Records the raw multipart body and the parsed form, as an S3 stand-in would see them."""
    body = request.body  # read first: parsing the form consumes the stream
    upload = request.FILES["file"]
    received.append((body, request.POST.dict(), (upload.name, upload.read(), upload.content_type)))
    return HttpResponse("ok")


urlpatterns = [*test_urlpatterns, path("echo/", echo)]


@pytest.fixture
def echoed():
    received.clear()
    with override_settings(ROOT_URLCONF=__name__):
        yield received


def test_it_is_exported():
    assert patchbay.testing.post_presigned_form is post_presigned_form
    assert "post_presigned_form" in patchbay.testing.__all__


def test_fields_go_in_order_and_the_file_last(client, echoed):
    fields = {"key": "a/b.png", "Content-Type": "image/png", "policy": "cG9saWN5"}
    response = post_presigned_form(
        client,
        "/echo/",
        fields,
        b"PNGDATA",
        filename="b.png",
        extra_fields={"x-ignore-note": "hi", "Content-Type": "text/html"},
    )
    assert response.status_code == 200
    body, form, file = echoed[0]
    names = [
        body.index(f'name="{name}"'.encode())
        for name in ("key", "Content-Type", "policy", "x-ignore-note", "file")
    ]
    assert names == sorted(names)
    # An extra field replaces a form field's value in its place, not after it.
    assert form == {
        "key": "a/b.png",
        "Content-Type": "text/html",
        "policy": "cG9saWN5",
        "x-ignore-note": "hi",
    }
    assert file == ("b.png", b"PNGDATA", "image/png")  # the part's type guessed from the name


def test_the_file_parts_type(client, echoed):
    post_presigned_form(client, "/echo/", {}, b"x", filename="data.weird")
    post_presigned_form(client, "/echo/", {}, b"x", content_type="text/csv")
    assert [file for _, _, file in echoed] == [
        ("data.weird", b"x", "application/octet-stream"),
        ("file.bin", b"x", "text/csv"),
    ]


def test_a_whole_upload_against_the_simulated_bucket(client, settings, tmp_path):
    settings.PATCHBAY_SIMULATE = True
    settings.MEDIA_ROOT = str(tmp_path)
    result = get_direct_upload_form_data("notes.txt", "text/plain", max_file_size=1000)

    response = post_presigned_form(
        client, result["form_url"], result["form_fields"], b"hello", filename="notes.txt"
    )

    assert response.status_code == 201
    assert store.head("patchbay-simulated", result["key"])["content_length"] == 5
    completed = complete_upload(result["upload_id"])
    assert completed["success"]
    assert completed["upload"]["size"] == 5
