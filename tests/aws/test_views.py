from __future__ import annotations

import pytest
import requests
from django.test import Client
from django.utils.crypto import salted_hmac

from patchbay.models import Upload
from tests.aws.helpers import bucket

pytestmark = pytest.mark.django_db
__all__ = ["bucket"]


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw")


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


def credentials(client, **data):
    return client.post(
        "/integrations/uploads/credentials/",
        {"filename": "photo.png", "content_type": "image/png", **data},
    )


def test_login_required_by_default(client, bucket, settings):
    response = credentials(client)
    assert response.status_code == 403
    assert response.json()["error"]
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = False
    assert credentials(client).status_code == 200


def test_credentials(signed_in, bucket, ada):
    response = credentials(signed_in, size="100")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "form_url",
        "form_fields",
        "method",
        "headers",
        "upload_id",
        "file_url",
        "expires_in",
    }
    assert body["method"] == "POST"
    assert Upload.objects.get(pk=body["upload_id"]).owner == ada


def test_credentials_json_body(signed_in, bucket):
    response = signed_in.post(
        "/integrations/uploads/credentials/", {"filename": "a.pdf"}, content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"filename": ""}, "filename"),
        ({"size": str(50 * 1024 * 1024)}, "too large"),
        ({"filename": "page.html", "content_type": "text/html"}, "text/html"),
    ],
)
def test_credentials_refusals(signed_in, bucket, data, message):
    response = credentials(signed_in, **data)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_garbage_json_is_400(signed_in, bucket):
    response = signed_in.post(
        "/integrations/uploads/credentials/", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_confirm_and_delete_owner_only(signed_in, bucket, django_user_model):
    form = credentials(signed_in).json()
    requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": ("photo.png", b"\x89PNG", "image/png")},
        timeout=10,
    )
    mallory = Client()
    mallory.force_login(django_user_model.objects.create_user("mallory", password="pw"))
    assert (
        mallory.post("/integrations/uploads/confirm/", {"upload_id": form["upload_id"]}).status_code
        == 403
    )
    assert (
        mallory.post("/integrations/uploads/delete/", {"upload_id": form["upload_id"]}).status_code
        == 403
    )

    confirmed = signed_in.post("/integrations/uploads/confirm/", {"upload_id": form["upload_id"]})
    assert confirmed.status_code == 200
    assert confirmed.json()["upload"]["size"] == 4
    assert signed_in.post(
        "/integrations/uploads/delete/", {"upload_id": form["upload_id"]}
    ).json() == {"deleted": True, "upload_id": form["upload_id"]}


def test_confirm_answers(signed_in, bucket):
    assert signed_in.post("/integrations/uploads/confirm/", {"upload_id": "abc"}).status_code == 400
    assert (
        signed_in.post("/integrations/uploads/confirm/", {"upload_id": "999999"}).status_code == 404
    )
    form = credentials(signed_in).json()
    missing = signed_in.post("/integrations/uploads/confirm/", {"upload_id": form["upload_id"]})
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "upload_missing"


@pytest.mark.parametrize("upload_id", ["", "²", "-1", "0", str(10**30), "1\x00", "x" * 10_000])
@pytest.mark.parametrize("action", ["confirm", "delete"])
def test_an_id_that_names_no_row_is_400(signed_in, bucket, action, upload_id):
    answer = signed_in.post(f"/integrations/uploads/{action}/", {"upload_id": upload_id})
    assert answer.status_code == 400
    assert "error" in answer.json()


def test_post_only_and_csrf(bucket, ada):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ada)
    assert strict.get("/integrations/uploads/credentials/").status_code == 405
    assert credentials(strict).status_code == 403  # no CSRF token


def test_anonymous_uploads_belong_to_their_session(bucket, settings):
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = False
    visitor, stranger = Client(), Client()
    form = credentials(visitor).json()
    requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": ("photo.png", b"\x89PNG", "image/png")},
        timeout=10,
    )
    assert (
        stranger.post(
            "/integrations/uploads/confirm/", {"upload_id": form["upload_id"]}
        ).status_code
        == 403
    )
    confirmed = visitor.post("/integrations/uploads/confirm/", {"upload_id": form["upload_id"]})
    assert confirmed.status_code == 200
    assert confirmed.json()["upload"]["metadata"] == {}


def session_tag(client, algorithm):
    return salted_hmac(
        "patchbay.aws.upload-session", client.session.session_key, algorithm=algorithm
    ).hexdigest()


def anonymous_upload(visitor):
    form = credentials(visitor).json()
    requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": ("photo.png", b"\x89PNG", "image/png")},
        timeout=10,
    )
    return Upload.objects.get(pk=form["upload_id"])


def test_anonymous_uploads_are_tagged_with_sha256(bucket, settings):
    # Explicit, so the tags stay the same when Django's default algorithm changes.
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = False
    visitor = Client()
    upload = anonymous_upload(visitor)
    assert upload.metadata["_session"] == session_tag(visitor, "sha256")


def test_anonymous_uploads_tagged_with_sha1_still_belong_to_their_session(bucket, settings):
    # Uploads made before the tags were SHA-256 carry SHA-1 tags (salted_hmac's old default).
    settings.PATCHBAY_UPLOADS_LOGIN_REQUIRED = False
    visitor, stranger = Client(), Client()
    upload = anonymous_upload(visitor)
    credentials(stranger)  # gives the stranger a session of their own
    upload.metadata["_session"] = session_tag(visitor, "sha1")
    upload.save(update_fields=["metadata"])

    confirm = {"upload_id": upload.pk}
    assert stranger.post("/integrations/uploads/confirm/", confirm).status_code == 403
    assert visitor.post("/integrations/uploads/confirm/", confirm).status_code == 200
