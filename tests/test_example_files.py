"""The example's S3 demo, server side, in simulation: credentials → bucket → confirm → list.

The browser half, the widget itself, is driven in headless Chromium by
``tests/browser/test_upload_widget.py``.
"""

from __future__ import annotations

import json
import struct
import textwrap
import zlib
from typing import Any

import pytest

from tests.test_example_project import ROOT, run_example

LIMIT = 2048


def make_png(width: int, height: int) -> bytes:
    """A valid PNG of one colour, built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    rows = b"".join(b"\x00" + b"\x3b\x5b\xdb\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# What the demo's user uploads.
PNG = make_png(8, 8)

FLOW = textwrap.dedent(
    f"""
    import json, sys
    sys.path.insert(0, {str(ROOT)!r})
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.conf import settings
    from django.test import Client
    from patchbay.aws.simulated import store
    from patchbay.models import Upload
    from patchbay.testing import post_presigned_form

    PNG = bytes.fromhex({PNG.hex()!r})
    call_command("migrate", verbosity=0)
    ada = User.objects.create_user("ada", "ada@example.com", "pw")
    bob = User.objects.create_user("bob", "bob@example.com", "pw")
    client = Client()
    seen = {{"anonymous": client.get("/files/").status_code}}
    client.force_login(ada)


    def body(response):
        return b"".join(response.streaming_content) if response.streaming else response.content


    def answer(response):
        return {{"status": response.status_code, "json": response.json()}}


    def credentials(**fields):
        return client.post("/integrations/uploads/credentials/", fields)


    def to_bucket(form, name, content):
        url, fields = form["form_url"], form["form_fields"]
        return post_presigned_form(client, url, fields, content, filename=name)


    def confirm(upload_id):
        return answer(client.post("/integrations/uploads/confirm/", {{"upload_id": upload_id}}))


    page = client.get("/files/")
    seen["page"] = page.content.decode()
    seen["page_cache_control"] = page["Cache-Control"]
    script = client.get("/static/files/upload.js")
    seen["script"] = {{"status": script.status_code, "text": body(script).decode()}}

    form = credentials(filename="pixel.png", content_type="image/png", size=str(len(PNG)))
    seen["credentials"] = answer(form)
    form = form.json()
    stored = to_bucket(form, "pixel.png", PNG)
    seen["bucket"] = {{"status": stored.status_code, "text": body(stored).decode()}}
    seen["confirm"] = confirm(form["upload_id"])
    bucket = Upload.objects.get(pk=form["upload_id"]).bucket
    seen["keys_after_upload"] = store.list_keys(bucket)
    seen["media_root"] = str(settings.MEDIA_ROOT)
    listed = client.get("/files/list/")
    seen["list"] = listed.content.decode()
    seen["list_cache_control"] = listed["Cache-Control"]
    opened = client.get(f"/files/{{form['upload_id']}}/")
    seen["open_status"] = opened.status_code
    seen["file_is_the_png"] = body(client.get(opened["Location"])) == PNG

    other = Client()
    other.force_login(bob)
    seen["open_as_someone_else"] = other.get(f"/files/{{form['upload_id']}}/").status_code
    seen["list_as_someone_else"] = other.get("/files/list/").content.decode()
    delete_url = f"/files/{{form['upload_id']}}/delete/"
    seen["delete_as_someone_else"] = other.post(delete_url).status_code

    rows = Upload.objects.count()
    seen["too_large"] = answer(credentials(filename="big.png", size=str({LIMIT} + 1)))
    seen["svg"] = answer(credentials(filename="drawing.svg", content_type="image/svg+xml"))
    seen["rows_added_by_refusals"] = Upload.objects.count() - rows

    # A script that does not declare the size gets a form, but the bucket refuses the file.
    liar = credentials(filename="big.png", content_type="image/png").json()
    refused = to_bucket(liar, "big.png", PNG + bytes({LIMIT}))
    seen["bucket_refusal"] = {{"status": refused.status_code, "text": body(refused).decode()}}
    seen["confirm_refused"] = confirm(liar["upload_id"])

    question = client.get(delete_url)
    seen["delete_question"] = {{"status": question.status_code, "text": question.content.decode()}}
    seen["keys_after_question"] = store.list_keys(bucket)
    deleted = client.post(delete_url, follow=True)
    seen["delete"] = {{
        "redirects": deleted.redirect_chain,
        "text": deleted.content.decode(),
    }}
    again = client.get(delete_url, follow=True)
    seen["delete_again"] = {{"redirects": again.redirect_chain, "text": again.content.decode()}}
    seen["list_after_delete"] = client.get("/files/list/").content.decode()
    seen["open_after_delete"] = client.get(f"/files/{{form['upload_id']}}/").status_code
    seen["keys_at_end"] = store.list_keys(bucket)
    seen["statuses"] = dict(Upload.objects.values_list("original_filename", "status"))
    print(json.dumps(seen))
    """
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the demo answered along the whole flow, run once in the example's own process."""
    directory = tmp_path_factory.mktemp("example-files")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MEDIA_ROOT", str(directory / "media"))
        monkeypatch.setenv("AWS_MAX_UPLOAD_SIZE", str(LIMIT))
        # Set, even empty, so that a developer's .env cannot change them.
        monkeypatch.setenv("AWS_UPLOAD_ALLOWED_CONTENT_TYPES", "")
        monkeypatch.setenv("PATCHBAY_PUBLIC_URL", "")
        completed = run_example(["-c", FLOW], directory / "db.sqlite3")
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    result["media_directory"] = str(directory / "media")
    return result


def test_the_page_needs_a_signed_in_user(seen):
    assert seen["anonymous"] == 302


def test_the_page_wires_the_widget_to_patchbays_endpoints(seen):
    page = seen["page"]

    assert 'data-credentials-url="/integrations/uploads/credentials/"' in page
    assert 'data-confirm-url="/integrations/uploads/confirm/"' in page
    assert 'data-list-url="/files/list/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<script src="/static/files/upload.js" defer></script>' in page
    assert "At most <strong>2.0\xa0KB</strong> per file" in page
    assert "No files yet." in page


def test_the_widget_script_is_served_in_debug(seen):
    assert seen["script"]["status"] == 200
    assert "xhr.upload.onprogress" in seen["script"]["text"]


def test_an_upload_goes_to_the_bucket_and_is_confirmed_with_its_real_size(seen):
    assert seen["credentials"]["status"] == 200
    form = seen["credentials"]["json"]
    assert form["form_fields"]["Content-Type"] == "image/png"
    assert form["form_fields"]["key"].endswith("/pixel.png")
    assert seen["bucket"]["status"] == 201
    assert seen["confirm"]["status"] == 200
    assert seen["confirm"]["json"]["upload"]["status"] == "complete"
    assert seen["confirm"]["json"]["upload"]["size"] == len(PNG)
    assert seen["keys_after_upload"] == [form["form_fields"]["key"]]
    assert seen["media_root"] == seen["media_directory"]  # the simulated bucket, not the repo


def test_the_list_links_the_users_complete_files(seen):
    upload_id = seen["credentials"]["json"]["upload_id"]

    assert f'<a href="/files/{upload_id}/">pixel.png</a>' in seen["list"]
    assert f'data-bytes="{len(PNG)}"' in seen["list"]
    assert f"{len(PNG)}\xa0bytes" in seen["list"]
    assert '<span class="badge healthy">complete</span>' in seen["list"]
    assert f'href="/files/{upload_id}/delete/"' in seen["list"]


def test_the_page_and_its_list_are_never_cached(seen):
    # Back after opening a file must draw the list again, not show the one from before.
    assert "no-store" in seen["page_cache_control"]
    assert "no-store" in seen["list_cache_control"]


def test_a_files_link_redirects_to_its_bytes_for_its_owner_only(seen):
    assert seen["open_status"] == 302
    assert seen["file_is_the_png"] is True
    assert seen["open_as_someone_else"] == 404
    assert "pixel.png" not in seen["list_as_someone_else"]


def test_too_large_and_active_files_are_refused_before_any_upload(seen):
    assert seen["too_large"]["status"] == 400
    assert seen["too_large"]["json"]["max_size"] == LIMIT
    assert f"at most {LIMIT} bytes" in seen["too_large"]["json"]["error"]
    assert seen["svg"]["status"] == 400
    assert seen["svg"]["json"]["error_code"] == "content_type_not_allowed"
    assert seen["rows_added_by_refusals"] == 0


def test_the_bucket_refuses_a_file_over_the_policys_limit_in_s3s_xml(seen):
    refusal = seen["bucket_refusal"]

    assert refusal["status"] == 400
    assert "<Code>EntityTooLarge</Code>" in refusal["text"]
    assert "<Message>" in refusal["text"]
    assert seen["confirm_refused"]["status"] == 400
    assert seen["confirm_refused"]["json"]["error_code"] == "upload_missing"
    assert seen["statuses"]["big.png"] == "failed"


def test_delete_asks_first_and_deletes_only_when_confirmed(seen):
    question = seen["delete_question"]
    assert question["status"] == 200
    assert "<h1>Delete pixel.png?</h1>" in question["text"]
    assert '<form method="post" class="actions">' in question["text"]
    assert 'href="/files/">Cancel, keep it</a>' in question["text"]
    assert seen["keys_after_question"] == seen["keys_after_upload"]  # asking deletes nothing
    assert seen["delete_as_someone_else"] == 404


def test_deleting_removes_the_file_and_its_link(seen):
    assert seen["delete"]["redirects"] == [["/files/", 302]]
    assert '<li class="success">Deleted pixel.png.</li>' in seen["delete"]["text"]
    assert "pixel.png" not in seen["list_after_delete"]
    assert seen["open_after_delete"] == 404
    assert seen["statuses"]["pixel.png"] == "deleted"
    assert seen["keys_at_end"] == []


def test_asking_again_for_a_deleted_file_leads_back_to_the_list(seen):
    assert seen["delete_again"]["redirects"] == [["/files/", 302]]
    assert '<li class="info">pixel.png is already deleted.</li>' in seen["delete_again"]["text"]
