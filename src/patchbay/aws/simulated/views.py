"""The simulated bucket's two endpoints, served only while simulating.

``upload`` takes the presigned POST a browser sends, checks it exactly as
S3 would (:mod:`~patchbay.aws.simulated.policy`), stores the file in the
simulated bucket (:mod:`~patchbay.aws.simulated.store`) and answers like S3.
``object_`` serves an object to whoever holds a simulated presigned URL
(:func:`~patchbay.aws.simulated.presigning.object_url`). Both answer errors
with S3's XML ``<Error>``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import IO, cast
from urllib.parse import unquote, urlencode
from xml.etree import ElementTree  # nosec B405  # builds S3's XML answers, never parses XML

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.http.response import HttpResponseBase
from django.utils.datastructures import MultiValueDict
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from patchbay.aws import media_types
from patchbay.aws.simulated import policy, presigning, store
from patchbay.conf import conf
from patchbay.core.simulation import should_simulate
from patchbay.core.urls import patchbay_path

# A bucket whose CORS rules let any origin POST and read the answer's headers.
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Location, x-amz-request-id",
}


def _xml(root: str, elements: dict[str, str | int]) -> str:
    document = ElementTree.Element(root)
    for name, value in elements.items():
        ElementTree.SubElement(document, name).text = str(value)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        document, encoding="unicode"
    )


def _error(code: str, message: str, status: int, **details: str | int) -> HttpResponse:
    request_id = secrets.token_hex(8).upper()
    body = _xml("Error", {"Code": code, "Message": message, **details, "RequestId": request_id})
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["x-amz-request-id"] = request_id
    return response


def _cors(response: HttpResponse) -> HttpResponse:
    for header, value in _CORS.items():
        response[header] = value
    return response


class _OrderedMultiPartParser(MultiPartParser):
    """Django's multipart parser, noting the fields that came before the first file.

    S3 reads a POST up to its file and ignores whatever follows, so a field
    sent after the file does not count, as with S3.
    """

    fields_before_file: QueryDict | None = None

    def handle_file_complete(self, old_field_name: str, counters: list[int]) -> None:
        if self.fields_before_file is None:
            # Called at the next part's boundary: the fields parsed so far all preceded the file.
            self.fields_before_file = self._post.copy()  # type: ignore[attr-defined]
        super().handle_file_complete(old_field_name, counters)


def _read_form(request: HttpRequest) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]]:
    """The fields S3 would read (those before the file) and the uploaded files."""
    if hasattr(request, "_files"):
        # Something (a middleware) parsed the body already: the order of the
        # fields is lost, so every field counts.
        return request.POST, request.FILES
    parser = _OrderedMultiPartParser(
        request.META,
        cast("IO[bytes]", request),  # a request reads like a file, as Django itself relies on
        request.upload_handlers,
        request.encoding,
    )
    fields, files = parser.parse()
    before = parser.fields_before_file
    return (fields if before is None else before), files


# The simulated bucket stands in for S3's: it answers presigned requests, never sessions.
@login_not_required
@csrf_exempt
def upload(request: HttpRequest, bucket: str) -> HttpResponse:
    """A POST upload to the simulated ``bucket``, checked and answered as S3 would."""
    if not should_simulate():
        raise Http404("The simulated bucket exists only while simulating.")
    if request.method == "OPTIONS":
        response = HttpResponse()
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", ""
        )
        response["Access-Control-Max-Age"] = "3000"
        return _cors(response)
    if request.method != "POST":
        return _cors(
            _error(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                Method=str(request.method),
                ResourceType="BUCKETPOST",
            )
        )
    return _cors(_accept(request, bucket))


def _malformed() -> HttpResponse:
    return _error(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
        400,
    )


def _accept(request: HttpRequest, bucket: str) -> HttpResponse:
    if not (request.content_type or "").startswith("multipart/form-data"):
        return _malformed()
    try:
        fields, files = _read_form(request)
    except MultiPartParserError:
        return _malformed()
    uploads = [file for name in files for file in files.getlist(name)]
    single = uploads[0] if len(uploads) == 1 and "file" in files else None
    try:
        accepted = policy.verify_post(
            bucket,
            {name: values[-1] for name, values in fields.lists()},
            file_size=None if single is None else single.size or 0,
            filename=(single.name or "") if single is not None else "",
        )
        if single is None:  # verify_post refused it already; this tells the type checker
            raise policy.missing_file()
        store.put(
            bucket,
            accepted.key,
            cast("IO[bytes]", single),
            content_type=accepted.content_type,
            metadata=accepted.metadata,
            content_disposition=accepted.content_disposition,
        )
    except policy.PostRefused as refusal:
        return _error(refusal.code, refusal.message, refusal.status, **refusal.details)
    except SuspiciousFileOperation:
        # S3 takes any key; the local store refuses those that climb out of its folder.
        return _error("InvalidArgument", "The simulated bucket cannot store this key.", 400)
    finally:
        for file in uploads:
            file.close()
    return _answer(request, bucket, accepted)


def _answer(request: HttpRequest, bucket: str, accepted: policy.AcceptedPost) -> HttpResponse:
    head = store.head(bucket, accepted.key) or {}
    etag = str(head.get("etag", ""))
    # The object's unsigned URL, absolute like S3's: readable only with a presigned token.
    path = patchbay_path(
        "patchbay:s3-simulated-object", kwargs={"bucket": bucket, "key": accepted.key}
    )
    location = conf.PUBLIC_URL + path if conf.PUBLIC_URL else request.build_absolute_uri(path)
    if accepted.success_action_redirect:
        target = accepted.success_action_redirect
        query = urlencode({"bucket": bucket, "key": accepted.key, "etag": etag})
        response = HttpResponse(status=303)
        response["Location"] = f"{target}{'&' if '?' in target else '?'}{query}"
    elif accepted.success_action_status == 201:
        body = _xml(
            "PostResponse",
            {"Location": location, "Bucket": bucket, "Key": accepted.key, "ETag": etag},
        )
        response = HttpResponse(body, status=201, content_type="application/xml")
        response["Location"] = location
    else:
        response = HttpResponse(status=accepted.success_action_status)
        response["Location"] = location
    response["ETag"] = etag
    return response


@login_not_required
def object_(request: HttpRequest, bucket: str, key: str) -> HttpResponseBase:
    """GET or HEAD an object of the simulated bucket with a simulated presigned URL's token."""
    if not should_simulate():
        raise Http404("The simulated bucket exists only while simulating.")
    if request.method not in {"GET", "HEAD"}:
        return _error(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            405,
            Method=str(request.method),
            ResourceType="OBJECT",
        )
    grant = presigning.load_object_token(request.GET.get("token", ""))
    # The URL's key may arrive percent-encoded once more than the key itself.
    if grant is None or grant.get("b") != bucket or grant.get("k") not in {key, unquote(key)}:
        return _error("AccessDenied", "Access Denied", 403)
    key = str(grant["k"])
    head = store.head(bucket, key)
    if head is None:
        return _error("NoSuchKey", "The specified key does not exist.", 404, Key=key)
    etag = str(head["etag"])
    if (grant.get("m") and grant["m"] != etag) or not _if_match(request, etag):
        # The object is not the one the URL was made for: S3's answer to a failed If-Match.
        return _error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            412,
            Condition="If-Match",
        )
    # Served inline only if known safe (images, PDF, text); anything else is a
    # sandboxed download, so an uploaded page or SVG never runs with this site's origin.
    served = media_types.serving(grant.get("t") or head["content_type"])
    asked = str(grant.get("d") or head.get("content_disposition") or "")
    inline = served.inline and not asked.lower().startswith("attachment")
    response: HttpResponseBase
    if request.method == "HEAD":
        response = HttpResponse(content_type=served.content_type)
        response["Content-Length"] = str(head["content_length"])
    else:
        response = FileResponse(store.open_object(bucket, key), content_type=served.content_type)
    response["Content-Disposition"] = media_types.content_disposition(
        inline, key.rsplit("/", 1)[-1]
    )
    if not inline:
        response["Content-Security-Policy"] = "sandbox"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(
        datetime.fromisoformat(str(head["last_modified"])).timestamp()
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _if_match(request: HttpRequest, etag: str) -> bool:
    """Whether the request's ``If-Match`` (if any) admits ``etag``, as S3 reads it."""
    header = request.headers.get("If-Match")
    if header is None:
        return True
    return any(tag.strip() in {"*", etag} for tag in header.split(","))
