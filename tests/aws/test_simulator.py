"""The simulated bucket: S3's POST checks, as pure functions and through its endpoints."""

from __future__ import annotations

import base64
import json
import time
import types
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from patchbay.aws.s3 import S3Client
from patchbay.aws.shortcuts import complete_upload, get_direct_upload_form_data
from patchbay.aws.simulated import policy as post_policy
from patchbay.aws.simulated import presigning, sigv4, store
from patchbay.aws.simulated.policy import PostRefused, verify_post
from patchbay.aws.simulated.sigv4 import policy_signature
from patchbay.models import Upload
from patchbay.testing import post_presigned_form

pytestmark = pytest.mark.django_db

BUCKET = "patchbay-simulated"  # the bucket patchbay simulates when none is configured
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def simulating(settings, tmp_path):
    settings.PATCHBAY_SIMULATE = True
    settings.MEDIA_ROOT = str(tmp_path)
    return settings


def upload_form(**options):
    result = get_direct_upload_form_data(
        "photo.png", "image/png", **{"max_file_size": 100, **options}
    )
    assert result["success"], result
    return result


def post(client, result, content=PNG, **options):
    return post_presigned_form(
        client, result["form_url"], result["form_fields"], content, filename="photo.png", **options
    )


def xml_of(response, root_tag):
    """The elements of the XML document patchbay answered, e.g. ``{"Code": ..., ...}``."""
    assert response["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (patchbay's own answer)
    assert root.tag == root_tag
    return {element.tag: element.text for element in root}


def error_of(response):
    return xml_of(response, "Error")


def policy_of(fields):
    return json.loads(base64.b64decode(fields["policy"]))


def encode(document):
    return base64.b64encode(json.dumps(document).encode()).decode()


def crafted(conditions, *, expiration="2099-01-01T00:00:00Z", **fields):
    """Form fields signed with the simulation credentials for a hand-made policy."""
    credential = f"{sigv4.SIMULATION_ACCESS_KEY}/20250101/us-east-1/s3/aws4_request"
    signed = {
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": credential,
        "x-amz-date": "20250101T000000Z",
    }
    policy = encode(
        {
            "expiration": expiration,
            "conditions": [*conditions, *({name: value} for name, value in signed.items())],
        }
    )
    return {**fields, **signed, "policy": policy, "x-amz-signature": sign(policy)}


def sign(policy):
    return policy_signature(policy, sigv4.simulation_secret_key(), "20250101", "us-east-1")


def refusal(fields, *, bucket=BUCKET, file_size=10, **options):
    with pytest.raises(PostRefused) as caught:
        verify_post(bucket, fields, file_size=file_size, **options)
    return caught.value


# -- the verifier, without HTTP -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["a/b.txt", "a/${filename}"])
def test_a_simulated_form_is_the_one_boto3_makes(key, monkeypatch):
    import boto3
    from botocore import signers
    from botocore.config import Config

    frozen = datetime(2031, 5, 6, 7, 8, 9)
    monkeypatch.setattr(signers, "get_current_datetime", lambda: frozen)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: frozen)
    conditions = [{"Content-Type": "text/plain"}, ["content-length-range", 1, 10]]
    fields = {"Content-Type": "text/plain", "success_action_status": "201"}
    by_boto3 = (
        boto3.session.Session()
        .client(
            "s3",
            aws_access_key_id=sigv4.SIMULATION_ACCESS_KEY,
            aws_secret_access_key=sigv4.simulation_secret_key(),
            region_name=sigv4.SIMULATION_REGION,
            endpoint_url="http://patchbay.simulated",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        .generate_presigned_post(
            BUCKET, key, Fields=dict(fields), Conditions=list(conditions), ExpiresIn=60
        )
    )
    ours = presigning.presigned_post(
        BUCKET, key, 60, conditions, fields, now=frozen.replace(tzinfo=timezone.utc)
    )
    assert ours["form_fields"] == by_boto3["fields"]
    assert list(ours["form_fields"]) == list(by_boto3["fields"])


class TestVerifier:
    def test_signature_is_the_one_botocore_computes(self):
        form = presigning.presigned_post(BUCKET, "a/b.txt", 60, None, None)["form_fields"]
        date = form["x-amz-credential"].split("/")[1]
        assert (
            policy_signature(form["policy"], sigv4.simulation_secret_key(), date, "us-east-1")
            == form["x-amz-signature"]
        )

    def test_a_boto3_form_is_accepted(self):
        form = presigning.presigned_post(
            BUCKET,
            "a/b.txt",
            60,
            [{"Content-Type": "text/plain"}, ["content-length-range", 1, 10]],
            {"Content-Type": "text/plain"},
        )["form_fields"]
        accepted = verify_post(BUCKET, form, file_size=10)
        assert accepted == post_policy.AcceptedPost(key="a/b.txt", content_type="text/plain")

    def test_signature_uses_the_secret_the_bucket_trusts(self):
        form = crafted([{"key": "k"}], key="k")
        assert refusal(form, secret_key="another-secret").code == "SignatureDoesNotMatch"
        assert verify_post(BUCKET, form, file_size=1).key == "k"

    def test_expiry_is_exact_to_the_second(self):
        form = crafted([{"key": "k"}], key="k", expiration="2030-01-01T00:00:00.000Z")
        deadline = 1893456000  # 2030-01-01T00:00:00Z
        assert verify_post(BUCKET, form, file_size=1, now=deadline - 1).key == "k"
        refused = refusal(form, now=deadline)
        assert (refused.code, refused.status) == ("AccessDenied", 403)
        assert refused.message == "Invalid according to Policy: Policy expired."

    @pytest.mark.parametrize(
        ("condition", "value", "accepted"),
        [
            (["eq", "$x-amz-meta-tag", "blue"], "blue", True),
            (["eq", "$x-amz-meta-tag", "blue"], "Blue", False),
            (["starts-with", "$x-amz-meta-tag", "bl"], "blue", True),
            (["starts-with", "$x-amz-meta-tag", "bl"], "red", False),
            (["starts-with", "$x-amz-meta-tag", ""], "anything", True),
            ({"x-amz-meta-tag": "blue"}, "blue", True),
            ({"x-amz-meta-tag": "blue"}, "blue ", False),
        ],
    )
    def test_condition_matching(self, condition, value, accepted):
        form = crafted([{"key": "k"}, condition], key="k", **{"x-amz-meta-tag": value})
        if accepted:
            assert verify_post(BUCKET, form, file_size=1).metadata == {"tag": value}
        else:
            refused = refusal(form)
            assert refused.code == "AccessDenied"
            assert refused.message.startswith(
                "Invalid according to Policy: Policy Condition failed: ["
            )
            assert "$x-amz-meta-tag" in refused.message

    def test_a_failed_condition_names_it_as_s3_does(self):
        refused = refusal(crafted([{"key": "a"}], key="b"))
        assert refused.message == (
            'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "a"]'
        )

    def test_field_names_are_case_insensitive(self):
        form = crafted([{"key": "k"}, {"Content-Type": "image/png"}], key="k")
        form["content-type"] = "image/png"
        assert verify_post(BUCKET, form, file_size=1).content_type == "image/png"

    def test_every_type_of_a_content_type_list_must_match_a_prefix(self):
        conditions = [{"key": "k"}, ["starts-with", "$Content-Type", "image/"]]
        ok = crafted(conditions, key="k", **{"Content-Type": "image/png, image/jpeg"})
        assert verify_post(BUCKET, ok, file_size=1).content_type == "image/png, image/jpeg"
        mixed = crafted(conditions, key="k", **{"Content-Type": "image/png, text/html"})
        assert refusal(mixed).code == "AccessDenied"

    def test_the_bucket_condition_is_checked_against_the_request_bucket(self):
        form = crafted([{"bucket": BUCKET}, {"key": "k"}], key="k")
        assert verify_post(BUCKET, form, file_size=1).key == "k"
        refused = refusal(form, bucket="other")
        assert refused.message.endswith(f'["eq", "$bucket", "{BUCKET}"]')

    def test_every_field_must_be_covered_except_the_ignored_ones(self):
        form = crafted([{"key": "k"}], key="k", acl="public-read", Extra="1")
        refused = refusal(form)
        assert (refused.code, refused.status) == ("AccessDenied", 403)
        assert refused.message == "Invalid according to Policy: Extra input fields: acl, extra"
        ignored = crafted([{"key": "k"}], key="k", **{"x-ignore-note": "fine", "file": "x"})
        assert verify_post(BUCKET, ignored, file_size=1).key == "k"

    @pytest.mark.parametrize(
        ("size", "code", "details"),
        [
            (0, "EntityTooSmall", {"ProposedSize": 0, "MinSizeAllowed": 1}),
            (11, "EntityTooLarge", {"ProposedSize": 11, "MaxSizeAllowed": 10}),
        ],
    )
    def test_content_length_range(self, size, code, details):
        form = crafted([{"key": "k"}, ["content-length-range", 1, 10]], key="k")
        for inside in (1, 10):
            assert verify_post(BUCKET, form, file_size=inside).key == "k"
        refused = refusal(form, file_size=size)
        assert (refused.code, refused.status, refused.details) == (code, 400, details)

    def test_filename_substitution_happens_before_the_conditions(self):
        form = crafted([["starts-with", "$key", "up/"]], key="up/${filename}")
        accepted = verify_post(BUCKET, form, file_size=1, filename="C:\\Users\\ada\\me.png")
        assert accepted.key == "up/me.png"
        assert post_policy.substitute_filename({"policy": "${filename}"}, "x") == {
            "policy": "${filename}"
        }

    def test_answers_chosen_by_the_form(self):
        base = [{"key": "k"}]
        assert verify_post(BUCKET, crafted(base, key="k"), file_size=1).success_action_status == 204
        for status, expected in (("200", 200), ("201", 201), ("202", 204)):
            form = crafted(
                [*base, {"success_action_status": status}], key="k", success_action_status=status
            )
            assert verify_post(BUCKET, form, file_size=1).success_action_status == expected
        redirect = "https://app.example/done"
        form = crafted(
            [*base, {"success_action_redirect": redirect}],
            key="k",
            success_action_redirect=redirect,
        )
        assert verify_post(BUCKET, form, file_size=1).success_action_redirect == redirect

    def test_no_content_type_field_stores_s3s_default(self):
        accepted = verify_post(BUCKET, crafted([{"key": "k.png"}], key="k.png"), file_size=1)
        assert accepted.content_type == "binary/octet-stream"

    def test_unsigned_forms_are_anonymous_and_refused(self):
        refused = refusal({"key": "k"})
        assert (refused.code, refused.message, refused.status) == (
            "AccessDenied",
            "Access Denied",
            403,
        )

    @pytest.mark.parametrize("missing", post_policy.REQUIRED_FIELDS)
    def test_missing_fields(self, missing):
        form = crafted([{"key": "k"}], key="k")
        del form[missing]
        refused = refusal(form)
        assert (refused.code, refused.status) == ("InvalidArgument", 400)
        assert f"must contain a field named '{missing}'" in refused.message
        assert refused.details["ArgumentName"] == missing

    def test_missing_file(self):
        refused = refusal(crafted([{"key": "k"}], key="k"), file_size=None)
        assert (refused.code, refused.status) == ("InvalidArgument", 400)
        assert refused.message == "POST requires exactly one file upload per request."

    def test_credentials(self):
        form = crafted([{"key": "k"}], key="k")
        other_key = {**form, "x-amz-credential": form["x-amz-credential"].replace("AKIA", "AKIB")}
        assert (refusal(other_key).code, refusal(other_key).status) == ("InvalidAccessKeyId", 403)
        other_region = {
            **form,
            "x-amz-credential": form["x-amz-credential"].replace("us-east-1", "eu-west-1"),
        }
        assert "the region 'eu-west-1' is wrong" in refusal(other_region).message
        malformed = {**form, "x-amz-credential": "AKIA/today/us-east-1/s3"}
        assert refusal(malformed).code == "InvalidArgument"
        sigv2 = {**form, "x-amz-algorithm": "AWS-HMAC-SHA1"}
        assert refusal(sigv2).code == "InvalidArgument"

    @pytest.mark.parametrize(
        ("policy", "message"),
        [
            ("not base64!", "Invalid Policy: Invalid JSON."),
            (base64.b64encode(b"[1]").decode(), "Invalid Policy: Invalid JSON."),
            (encode({"conditions": []}), "Invalid Policy: Policy missing expiration."),
            (encode({"expiration": "2099-01-01T00:00:00Z"}), "Invalid Policy: Policy missing "),
            (
                encode({"expiration": "tomorrow", "conditions": []}),
                "Invalid Policy: Invalid 'expiration' value: 'tomorrow'",
            ),
            (
                encode({"expiration": "2099-01-01T00:00:00Z", "conditions": [["in", "$k", "a"]]}),
                'Invalid Policy: Invalid Condition: ["in", "$k", "a"]',
            ),
            (
                encode(
                    {
                        "expiration": "2099-01-01T00:00:00Z",
                        "conditions": [["content-length-range", "1", 10]],
                    }
                ),
                "Invalid Policy: Invalid content-length-range",
            ),
        ],
    )
    def test_invalid_policies(self, policy, message):
        form = crafted([], key="k")
        refused = refusal({**form, "policy": policy, "x-amz-signature": sign(policy)})
        assert (refused.code, refused.status) == ("InvalidPolicyDocument", 400)
        assert refused.message.startswith(message)

    def test_keys_longer_than_s3_allows(self):
        key = "k" * 1025
        refused = refusal(crafted([{"key": key}], key=key))
        assert (refused.code, refused.status) == ("KeyTooLongError", 400)


# -- the upload endpoint -------------------------------------------------------------------------


def test_an_upload_is_stored_and_answered_like_s3(client, simulating):
    result = upload_form()
    response = post(client, result)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "*"
    answer = xml_of(response, "PostResponse")
    assert answer["Bucket"] == BUCKET
    assert answer["Key"] == result["key"]
    assert answer["ETag"] == response["ETag"]
    assert answer["Location"] == response["Location"]
    assert answer["Location"].startswith("http://testserver/integrations/s3/simulated/")
    assert answer["Location"].endswith(result["key"])

    head = store.head(BUCKET, result["key"])
    assert head["content_type"] == "image/png"
    assert head["content_length"] == len(PNG)
    with store.open_object(BUCKET, result["key"]) as stored:
        assert stored.read() == PNG

    completed = complete_upload(result["upload_id"])
    assert completed["success"], completed
    upload = Upload.objects.get(pk=result["upload_id"])
    assert (upload.status, upload.size, upload.simulated) == ("complete", len(PNG), True)
    # Every other method works against the same store.
    listed = S3Client().list_objects(prefix="uploads/")
    assert [item["key"] for item in listed["objects"]] == [result["key"]]


def test_the_location_uses_the_public_url(client, simulating):
    simulating.PATCHBAY_PUBLIC_URL = "https://app.example"
    result = upload_form()
    assert result["form_url"].startswith("https://app.example/integrations/s3/simulated/")
    response = post(client, result)
    assert response.status_code == 201
    assert response["Location"].startswith("https://app.example/integrations/s3/simulated/")


def test_redirect_variant(client, simulating):
    result = upload_form(success_redirect_url="https://app.example/done?step=2")
    response = post(client, result)

    assert response.status_code == 303
    target = urlsplit(response["Location"])
    assert target.netloc == "app.example"
    assert target.path == "/done"
    assert parse_qs(target.query) == {
        "step": ["2"],
        "bucket": [BUCKET],
        "key": [result["key"]],
        "etag": [response["ETag"]],
    }
    assert store.head(BUCKET, result["key"]) is not None


def tampered_policy(fields):
    document = policy_of(fields)
    document["conditions"] = [
        ["content-length-range", 1, 10**9] if isinstance(c, list) else c
        for c in document["conditions"]
    ]
    return {"policy": encode(document)}


@pytest.mark.parametrize(
    ("change", "status", "code", "message"),
    [
        pytest.param(
            tampered_policy,
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match",
            id="tampered-policy",
        ),
        pytest.param(
            lambda fields: {"x-amz-signature": "0" * 64},
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match",
            id="wrong-signature",
        ),
        pytest.param(
            lambda fields: {"key": "uploads/someone-elses-file.png"},
            403,
            "AccessDenied",
            'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/',
            id="wrong-key",
        ),
        pytest.param(
            lambda fields: {"Content-Type": "text/html"},
            403,
            "AccessDenied",
            'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", '
            '"image/png"]',
            id="wrong-type",
        ),
        pytest.param(
            lambda fields: {"x-amz-meta-owner": "mallory"},
            403,
            "AccessDenied",
            "Invalid according to Policy: Extra input fields: x-amz-meta-owner",
            id="extra-field",
        ),
    ],
)
def test_refused_forms(client, simulating, change, status, code, message):
    result = upload_form()
    response = post(client, result, extra_fields=change(result["form_fields"]))

    assert response.status_code == status
    error = error_of(response)
    assert error["Code"] == code
    assert error["Message"].startswith(message)
    assert error["RequestId"] == response["x-amz-request-id"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert store.list_keys(BUCKET) == []


@pytest.mark.parametrize(
    ("content", "code", "details"),
    [
        (b"x" * 101, "EntityTooLarge", {"ProposedSize": "101", "MaxSizeAllowed": "100"}),
        (b"", "EntityTooSmall", {"ProposedSize": "0", "MinSizeAllowed": "1"}),
    ],
)
def test_files_outside_the_size_range(client, simulating, content, code, details):
    response = post(client, upload_form(), content)
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == code
    assert {name: error[name] for name in details} == details
    assert store.list_keys(BUCKET) == []


def test_an_expired_policy(client, simulating, monkeypatch):
    result = upload_form(expiration=1)
    later = time.time() + 2
    monkeypatch.setattr(post_policy, "time", types.SimpleNamespace(time=lambda: later))
    response = post(client, result)
    assert response.status_code == 403
    assert error_of(response)["Message"] == "Invalid according to Policy: Policy expired."


def test_the_bucket_in_the_url_must_be_the_signed_one(client, simulating):
    result = upload_form()
    url = reverse("patchbay:s3-simulated-upload", kwargs={"bucket": "another-bucket"})
    response = post_presigned_form(client, url, result["form_fields"], PNG)
    assert response.status_code == 403
    assert error_of(response)["Message"].endswith(f'["eq", "$bucket", "{BUCKET}"]')
    assert store.list_keys("another-bucket") == []


def test_a_post_without_its_file(client, simulating):
    result = upload_form()
    response = client.post(result["form_url"], result["form_fields"])
    assert response.status_code == 400
    error = error_of(response)
    assert (error["Code"], error["ArgumentName"]) == ("InvalidArgument", "file")


def test_fields_after_the_file_are_ignored_as_s3_ignores_them(client, simulating):
    result = upload_form()
    fields = dict(result["form_fields"])
    key = fields.pop("key")
    data = {**fields, "file": post_file(), "key": key}
    response = client.post(result["form_url"], data)
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == "InvalidArgument"
    assert error["Message"].startswith("Bucket POST must contain a field named 'key'.")
    assert "check the order of the fields" in error["Message"]


def parse_the_form_early(get_response):
    def middleware(request):
        request.POST  # noqa: B018 (as a middleware reading the form would)
        return get_response(request)

    return middleware


def test_a_form_parsed_by_a_middleware_still_uploads(client, simulating):
    # The order of the fields is lost then: every field counts, wherever it was sent.
    simulating.MIDDLEWARE = [*simulating.MIDDLEWARE, f"{__name__}.parse_the_form_early"]
    result = upload_form()
    assert post(client, result).status_code == 201
    assert store.head(BUCKET, result["key"])["content_length"] == len(PNG)


def post_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.png", PNG, content_type="image/png")


def test_two_files_are_refused(client, simulating):
    result = upload_form()
    data = {**result["form_fields"], "file": [post_file(), post_file()]}
    response = client.post(result["form_url"], data)
    assert response.status_code == 400
    assert error_of(response)["Message"] == "POST requires exactly one file upload per request."


def test_filename_substitution_and_metadata(client, simulating):
    post_form = presigning.presigned_post(
        BUCKET,
        "avatars/${filename}",
        60,
        [["content-length-range", 1, 100], {"x-amz-meta-owner": "ada"}],
        {"x-amz-meta-owner": "ada"},
    )
    response = post_presigned_form(
        client, post_form["post_url"], post_form["form_fields"], PNG, filename="me.png"
    )
    assert response.status_code == 204  # no success_action_status: S3's default
    assert response.content == b""
    head = store.head(BUCKET, "avatars/me.png")
    assert head["metadata"] == {"owner": "ada"}
    assert head["content_type"] == "binary/octet-stream"  # the form sent no Content-Type


def test_keys_the_local_store_cannot_hold(client, simulating):
    post_form = presigning.presigned_post(BUCKET, "a/${filename}", 60, None, None)
    fields = {**post_form["form_fields"], "key": "a/../../../etc/passwd"}
    response = post_presigned_form(client, post_form["post_url"], fields, PNG)
    assert response.status_code == 400
    assert error_of(response)["Code"] == "InvalidArgument"


def test_a_body_that_is_not_multipart(client, simulating):
    result = upload_form()
    response = client.post(result["form_url"], {"a": "b"}, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["Code"] == "MalformedPOSTRequest"


def test_other_methods_and_the_cors_preflight(client, simulating):
    url = reverse("patchbay:s3-simulated-upload", kwargs={"bucket": BUCKET})
    response = client.get(url)
    assert response.status_code == 405
    assert error_of(response)["Code"] == "MethodNotAllowed"
    preflight = client.options(
        url,
        headers={"Origin": "https://app.example", "Access-Control-Request-Headers": "x-a"},
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "POST"
    assert preflight["Access-Control-Allow-Headers"] == "x-a"


def test_the_endpoints_exist_only_while_simulating(client, simulating):
    result = upload_form()
    store.put(BUCKET, "a.txt", b"hi")
    url = presigning.object_url(BUCKET, "a.txt", 60)
    simulating.PATCHBAY_SIMULATE = False
    assert post(client, result).status_code == 404
    assert client.get(url).status_code == 404


# -- the object endpoint -------------------------------------------------------------------------


def test_a_presigned_url_serves_the_object(client, simulating):
    result = upload_form()
    assert post(client, result).status_code == 201

    response = client.get(result["file_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"]

    head = client.head(result["file_url"])
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(PNG))
    assert head.content == b""


@pytest.mark.parametrize(
    ("key", "content_type", "served_type", "disposition"),
    [
        ("page.html", "text/html", "application/octet-stream", "attachment"),
        ("logo.svg", "image/svg+xml", "application/octet-stream", "attachment"),
        ("notes.txt", "text/plain", "text/plain", "inline"),
        ("report.pdf", "application/pdf", "application/pdf", "inline"),
        ("docs/my report?.jpg", "image/jpeg", "image/jpeg", "inline"),
    ],
)
def test_only_passive_types_are_shown_inline(
    client, simulating, key, content_type, served_type, disposition
):
    store.put(BUCKET, key, b"<script>alert(1)</script>", content_type=content_type)
    response = client.get(presigning.object_url(BUCKET, key, 60))
    assert response.status_code == 200
    assert response["Content-Type"] == served_type
    assert response["Content-Disposition"].startswith(disposition + ";")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_forged_expired_and_foreign_tokens_are_refused(client, simulating):
    store.put(BUCKET, "a.txt", b"secret", content_type="text/plain")
    store.put(BUCKET, "b.txt", b"other", content_type="text/plain")
    good = presigning.object_url(BUCKET, "a.txt", 60)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired = presigning.object_url(BUCKET, "a.txt", -1)
    token = good.split("token=", 1)[1]
    foreign = reverse("patchbay:s3-simulated-object", kwargs={"bucket": BUCKET, "key": "b.txt"})
    for url in (forged, expired, foreign + "?token=" + token, foreign):
        response = client.get(url)
        assert response.status_code == 403, url
        assert error_of(response)["Code"] == "AccessDenied"
    response = client.get(good)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret"


def test_a_missing_object(client, simulating):
    response = client.get(presigning.object_url(BUCKET, "gone.txt", 60))
    assert response.status_code == 404
    error = error_of(response)
    assert (error["Code"], error["Key"]) == ("NoSuchKey", "gone.txt")
