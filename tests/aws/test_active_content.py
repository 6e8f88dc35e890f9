"""Issue 14, finding 2: no active content from uploads, however its type is written.

The attack: a script-carrying SVG declared as ``image/svg+xml;charset=utf-8``
passed the type refusal (exact strings) and was served inline, without a
CSP, from the application's own origin: stored XSS.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from patchbay.aws import media_types
from patchbay.aws.shortcuts import (
    complete_upload,
    content_type_allowed,
    get_direct_upload_form_data,
    get_upload_file_url,
)
from patchbay.aws.simulated import presigning, store
from patchbay.models import Upload
from patchbay.testing import post_presigned_form
from tests.aws.helpers import bucket, policy_of

pytestmark = pytest.mark.django_db
__all__ = ["bucket"]

SIMULATED_BUCKET = "patchbay-simulated"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/admin/")</script></svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32

# Every spelling the exact-string refusal let through, and their relatives.
SCRIPT_CAPABLE_SPELLINGS = [
    "TEXT/HTML",
    "text/html; charset=utf-8",
    " text/html",
    "\ttext/html\r\n",
    "image/svg+xml;charset=utf-8",
    "Image/SVG+XML",
    "text/xml",
    "application/xml",
    "application/x-javascript",
    "application/ecmascript",
    "text/javascript",
    "application/xhtml+xml",
    "application/rss+xml",
    "application/xslt+xml",
    "text/xsl",
    "text/x-component",
]


@pytest.fixture
def simulating(settings, tmp_path):
    settings.PATCHBAY_SIMULATE = True
    settings.MEDIA_ROOT = str(tmp_path)
    return settings


def served(client, url):
    """The object's answer, its file read and closed."""
    response = client.get(url)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    response.close()
    return response


class TestParsing:
    @pytest.mark.parametrize(
        ("value", "essence"),
        [
            ("image/png", "image/png"),
            (" IMAGE/PNG ; charset=binary", "image/png"),
            ("Text/Plain;charset=UTF-8", "text/plain"),
            ("image/svg+xml;charset=utf-8", "image/svg+xml"),
        ],
    )
    def test_case_parameters_and_whitespace_do_not_count(self, value, essence):
        parsed = media_types.parse(value)
        assert parsed is not None
        assert parsed.essence == essence

    @pytest.mark.parametrize(
        "value",
        ["", "png", "image/", "/png", "image/png, text/html", "image/*", "im age/png", None, 3],
    )
    def test_what_is_not_a_media_type(self, value):
        assert media_types.parse(value) is None

    @pytest.mark.parametrize("value", SCRIPT_CAPABLE_SPELLINGS)
    def test_script_capable(self, value):
        parsed = media_types.parse(value)
        assert parsed is not None
        assert media_types.script_capable(parsed)

    @pytest.mark.parametrize(
        "value",
        [
            "image/png",
            "application/pdf",
            "text/plain",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ],
    )
    def test_passive(self, value):
        parsed = media_types.parse(value)
        assert parsed is not None
        assert not media_types.script_capable(parsed)


class TestRefusedByDefault:
    @pytest.mark.parametrize("content_type", SCRIPT_CAPABLE_SPELLINGS)
    def test_script_capable_types_however_written(self, simulating, content_type):
        result = get_direct_upload_form_data("photo.png", content_type)
        assert result["success"] is False
        assert result["error_code"] == "content_type_not_allowed"
        assert content_type_allowed(content_type) is False
        assert not Upload.objects.exists()

    @pytest.mark.parametrize(
        "filename",
        [
            "feed.xml",
            "transform.xsl",
            "transform.xslt",
            "page.html",
            "page.HTM",
            "page.xhtml",
            "app.js",
            "module.mjs",
            "logo.svg",
            "news.rss",
        ],
    )
    def test_names_whose_type_is_script_capable(self, simulating, filename):
        assert get_direct_upload_form_data(filename)["error_code"] == "content_type_not_allowed"
        # Declaring a harmless type does not launder the name.
        declared = get_direct_upload_form_data(filename, "image/png")
        assert declared["error_code"] == "content_type_not_allowed"
        assert not Upload.objects.exists()

    @pytest.mark.parametrize(
        "content_type", ["image/png, text/html", "image/*", "png", "image/png/x", "text/ html"]
    )
    def test_what_is_not_a_media_type(self, simulating, content_type):
        result = get_direct_upload_form_data("photo.png", content_type)
        assert result["error_code"] == "content_type_not_allowed"

    @pytest.mark.parametrize("filename", ["blob.bin", "data.json", "picture.bmp", "notes.md"])
    def test_types_not_known_safe(self, simulating, filename):
        assert get_direct_upload_form_data(filename)["error_code"] == "content_type_not_allowed"

    def test_through_the_endpoint(self, client, simulating, django_user_model):
        client.force_login(django_user_model.objects.create_user("eve"))
        response = client.post(
            "/integrations/uploads/credentials/",
            {"filename": "cat.svg", "content_type": "image/svg+xml;charset=utf-8"},
        )
        assert response.status_code == 400
        assert response.json()["error_code"] == "content_type_not_allowed"


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("photo.png", "image/png"),
        ("photo.JPG", "image/jpeg"),
        ("anim.gif", "image/gif"),
        ("photo.webp", "image/webp"),
        ("photo.avif", "image/avif"),
        ("report.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
        ("table.csv", "text/csv"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("text.odt", "application/vnd.oasis.opendocument.text"),
        ("old.doc", "application/msword"),
        ("song.mp3", "audio/mpeg"),
        ("clip.mp4", "video/mp4"),
        ("archive.zip", "application/zip"),
    ],
)
def test_the_default_allows_files_known_safe(simulating, filename, content_type):
    result = get_direct_upload_form_data(filename)
    assert result["success"] is True, result
    assert Upload.objects.get(pk=result["upload_id"]).content_type == content_type


def test_a_type_is_stored_and_pinned_as_its_essence(simulating):
    result = get_direct_upload_form_data("photo.png", " IMAGE/PNG ; charset=binary")
    assert result["success"] is True
    assert result["form_fields"]["Content-Type"] == "image/png"
    assert {"Content-Type": "image/png"} in policy_of(result["form_fields"])["conditions"]
    assert Upload.objects.get(pk=result["upload_id"]).content_type == "image/png"


def test_a_wildcard_never_admits_script_capable_types(simulating):
    simulating.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["image/*", "text/*", "*/*"]
    assert get_direct_upload_form_data("photo.png")["success"] is True
    assert get_direct_upload_form_data("photo.bmp")["success"] is True
    for filename, content_type in [
        ("logo.svg", None),
        ("logo.svg", "Image/SVG+XML"),
        ("page.html", "text/html; charset=utf-8"),
        ("feed.xml", "text/xml"),
    ]:
        result = get_direct_upload_form_data(filename, content_type)
        assert result["error_code"] == "content_type_not_allowed", (filename, content_type)


def test_listed_patterns_are_parsed_too(simulating):
    simulating.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = [" Image/PNG ", "APPLICATION/PDF; x=y"]
    assert get_direct_upload_form_data("photo.png")["success"] is True
    assert get_direct_upload_form_data("report.pdf")["success"] is True
    assert get_direct_upload_form_data("photo.gif")["error_code"] == "content_type_not_allowed"


# -- the simulated bucket -------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored_type",
    [
        "image/svg+xml;charset=utf-8",
        "Image/SVG+XML",
        "TEXT/HTML",
        "text/html; charset=utf-8",
        "text/xml",
        "application/x-javascript",
        "image/png, text/html",
    ],
)
def test_the_simulated_bucket_never_serves_active_content_inline(client, simulating, stored_type):
    # The reported attack: however the object's type was written, it is a sandboxed download.
    store.put(SIMULATED_BUCKET, "uploads/x/cat.svg", SVG, content_type=stored_type)
    response = served(client, presigning.object_url(SIMULATED_BUCKET, "uploads/x/cat.svg", 60))
    assert response["Content-Disposition"] == 'attachment; filename="cat.svg"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("stored_type", "served_type", "inline"),
    [
        ("image/png", "image/png", True),
        ("IMAGE/JPEG; x=y", "image/jpeg", True),
        ("application/pdf", "application/pdf", True),
        ("text/plain", "text/plain", True),
        ("text/csv", "text/csv", False),
        ("application/zip", "application/zip", False),
        ("binary/octet-stream", "binary/octet-stream", False),
    ],
)
def test_only_types_known_safe_are_served_inline(
    client, simulating, stored_type, served_type, inline
):
    store.put(SIMULATED_BUCKET, "uploads/y/file.dat", b"data", content_type=stored_type)
    response = served(client, presigning.object_url(SIMULATED_BUCKET, "uploads/y/file.dat", 60))
    assert response["Content-Type"] == served_type
    disposition = "inline" if inline else "attachment"
    assert response["Content-Disposition"] == f'{disposition}; filename="file.dat"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.get("Content-Security-Policy") == (None if inline else "sandbox")


def test_a_type_listed_by_name_is_uploaded_and_served_as_a_download(client, simulating):
    simulating.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["image/png", "image/svg+xml"]
    result = get_direct_upload_form_data("logo.svg")
    assert result["success"] is True, result
    fields = result["form_fields"]
    # The object itself is stored as a download (S3 keeps the form's Content-Disposition).
    assert fields["Content-Disposition"] == "attachment"
    assert {"Content-Disposition": "attachment"} in policy_of(fields)["conditions"]
    posted = post_presigned_form(client, result["form_url"], fields, SVG, filename="logo.svg")
    assert posted.status_code == 201
    assert complete_upload(result["upload_id"])["success"] is True
    for url in (result["file_url"], get_upload_file_url(result["upload_id"])["url"]):
        response = served(client, url)
        assert response["Content-Disposition"] == 'attachment; filename="logo.svg"'
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Security-Policy"] == "sandbox"


# -- S3 and R2: presigned GETs carry the response overrides ---------------------------------


def _query(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _uploaded(form, content, filename):
    response = requests.post(
        form["form_url"],
        data=form["form_fields"],
        files={"file": (filename, content, form["form_fields"]["Content-Type"])},
        timeout=10,
    )
    assert int(response.status_code) == 201
    assert complete_upload(form["upload_id"])["success"] is True


def test_presigned_gets_serve_script_capable_files_as_downloads(bucket, settings):
    settings.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["image/svg+xml"]
    form = get_direct_upload_form_data("logo.svg")
    assert form["form_fields"]["Content-Disposition"] == "attachment"
    _uploaded(form, SVG, "logo.svg")
    url = get_upload_file_url(form["upload_id"])["url"]
    query = _query(url)
    assert query["response-content-disposition"] == 'attachment; filename="logo.svg"'
    assert query["response-content-type"] == "application/octet-stream"
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Disposition"] == 'attachment; filename="logo.svg"'
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert _query(form["file_url"])["response-content-type"] == "application/octet-stream"


def test_presigned_gets_pin_the_checked_type_of_safe_files(bucket):
    form = get_direct_upload_form_data("photo.png")
    _uploaded(form, PNG, "photo.png")
    query = _query(get_upload_file_url(form["upload_id"])["url"])
    assert query["response-content-disposition"] == 'inline; filename="photo.png"'
    assert query["response-content-type"] == "image/png"


def test_a_presigned_put_stores_unsafe_files_as_downloads(bucket, settings):
    settings.AWS_DIRECT_UPLOAD_METHOD = "put"
    settings.AWS_UPLOAD_ALLOWED_CONTENT_TYPES = ["text/csv"]
    form = get_direct_upload_form_data("table.csv", file_size=4)
    assert form["headers"] == {"Content-Type": "text/csv", "Content-Disposition": "attachment"}
    signed = _query(form["form_url"])["X-Amz-SignedHeaders"].split(";")
    assert "content-disposition" in signed
    put = requests.put(form["form_url"], data=b"a,b\n", headers=form["headers"], timeout=10)
    assert put.status_code == 200
    stored = bucket.head_object(Bucket="patchbay-test", Key=form["key"])
    assert stored["ContentDisposition"] == "attachment"
