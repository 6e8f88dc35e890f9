"""The argument checks of patchbay.core.arguments, and the row-id rule of the shortcuts.

Shortcuts that take a row id answer a failure for any id, never an exception.
The rule, the same everywhere: an id that is not a positive integer in range
(an ``int`` or a string of digits, as a form posts it) is ``invalid_id``; a
well-formed id without a row is ``not_found``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from patchbay.aws import shortcuts as aws
from patchbay.core.arguments import (
    MAX_ROW_ID,
    http_request,
    integer,
    json_value,
    mapping,
    optional_text,
    row_id,
    storable,
    text,
    user_id,
)
from patchbay.exceptions import ServiceError
from patchbay.models import SMS, Upload
from patchbay.twilio import shortcuts as twilio

pytestmark = pytest.mark.django_db

BY_ID = {
    "complete_upload": aws.complete_upload,
    "get_upload_file_url": aws.get_upload_file_url,
    "delete_upload": aws.delete_upload,
    "get_sms_status": twilio.get_sms_status,
}

MALFORMED = [
    "",
    "abc",
    None,
    0,
    -1,
    "-1",
    1.5,
    1.0,
    True,
    10**30,
    str(10**30),
    MAX_ROW_ID + 1,
    "1\x00",
    "\x00",
    "²",  # a digit to str.isdigit(), not to int()
    " 1 2 ",
    "x" * 100_000,
    object(),
    [1],
    {"id": 1},
    b"1",
]


@pytest.mark.parametrize("value", MALFORMED, ids=lambda value: repr(value)[:24])
@pytest.mark.parametrize("name", BY_ID)
def test_a_malformed_id_is_invalid_id(name, value):
    result = BY_ID[name](value)
    assert result["success"] is False
    assert result["error_code"] == "invalid_id"
    assert result["retryable"] is False
    assert len(result["error"]) < 200  # a huge value is not echoed whole


@pytest.mark.parametrize("value", [987654, "987654", MAX_ROW_ID, str(MAX_ROW_ID)])
@pytest.mark.parametrize("name", BY_ID)
def test_a_well_formed_id_without_a_row_is_not_found(name, value):
    result = BY_ID[name](value)
    assert result["success"] is False
    assert result["error_code"] == "not_found"


def test_an_id_posted_by_a_form_finds_its_row(settings):
    settings.PATCHBAY_SIMULATE = True
    upload = Upload.objects.create(key="uploads/a/b.png", bucket="b", max_size=10)
    sms = SMS.objects.create(to_number="+14155552671", body="hi", status="delivered")
    assert aws.complete_upload(str(upload.pk), status=Upload.STATUS_FAILED)["success"]
    assert twilio.get_sms_status(f"{sms.pk}")["status"] == "delivered"


def test_row_id():
    assert row_id(7) == 7
    assert row_id("0042") == 42
    assert row_id(MAX_ROW_ID) == MAX_ROW_ID
    for value in (0, -3, True, 1.0, "4.0", "", None, MAX_ROW_ID + 1, "٣"):
        assert row_id(value) is None


def refused(check, *args, **kwargs):
    with pytest.raises(ServiceError) as refusal:
        check(*args, **kwargs)
    assert refusal.value.error_code == "invalid_request"
    return refusal.value.message


def test_text():
    assert text("a", "name") == "a"
    assert text("", "name", required=False) == ""
    assert "non-empty string" in refused(text, "", "name")
    assert "not int 5" in refused(text, 5, "name")
    assert "without NUL" in refused(text, "a\x00b", "name")
    assert "at most 3" in refused(text, "abcd", "name", max_length=3)
    assert optional_text(None, "name") is None
    assert optional_text("", "name") is None
    assert "name must be" in refused(optional_text, [], "name")


def test_integer():
    assert integer(3, "n", minimum=1, maximum=3) == 3
    for value in (True, 1.0, "3", None):
        refused(integer, value, "n")
    assert "from 1 to 3" in refused(integer, 4, "n", minimum=1, maximum=3)
    message = refused(integer, -(10**400), "n", minimum=1)
    assert "from 1 or more" in message
    assert len(message) < 120  # a huge value is not shown whole


def test_mapping_and_json():
    assert mapping(None, "m") == {}
    assert mapping({"a": 1}, "m") == {"a": 1}
    for value in ("ab", [("a", 1)], {1: "a"}, 5):
        refused(mapping, value, "m")
    assert json_value({"a": [1, 2.5, "x", None, True]}, "j") == {"a": [1, 2.5, "x", None, True]}
    for value in ({"a": object()}, float("nan"), "a\x00", {"k\x00": 1}, b"x", {1: 2}):
        refused(json_value, value, "j")


def test_user_id_and_http_request(django_user_model):
    user = django_user_model.objects.create_user("ada")
    assert user_id(user) == user.pk
    assert user_id(None) is None
    assert user_id(AnonymousUser()) is None
    refused(user_id, "ada")
    request = RequestFactory().get("/")
    assert http_request(request) is request
    assert http_request(None) is None
    refused(http_request, object())


def test_storable():
    assert storable("a\x00b") == "a\ufffdb"
    assert storable(12345, 3) == "123"
