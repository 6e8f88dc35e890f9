"""Media types of uploads: parsed once, then judged as content a browser may run or not.

Every decision about an upload's type (may it be uploaded, is it served
inline or as a download) is made on the parsed *essence*, ``type/subtype`` in
lower case, never on the string a browser sent: ``TEXT/HTML``,
``text/html; charset=utf-8`` and ``text/html`` after a tab are all ``text/html``.
"""

from __future__ import annotations

import fnmatch
import mimetypes
import re
from collections.abc import Iterable
from typing import NamedTuple

from patchbay.aws.keys import sanitize_filename

# RFC 9110's token: what a type and a subtype are made of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
# HTTP's whitespace, which may surround a type (WHATWG MIME Sniffing, "parse a MIME type").
_WHITESPACE = " \t\r\n"

#: Script-capable types: a browser runs them as a page, a stylesheet transform or a
#: script. Any ``*/xml`` and ``*+xml`` type counts too (:func:`script_capable`).
SCRIPT_CAPABLE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/x-component",  # IE's HTML components
        "application/x-httpd-php",
        "application/x-shockwave-flash",
        "application/hta",
        "multipart/x-mixed-replace",
        # The WHATWG list of JavaScript MIME type essences.
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)
# Words no subtype may contain without being treated as script-capable ("xml" is not one:
# office documents are "vnd.openxmlformats-..."; XML types end in "xml", see below).
_SCRIPT_WORDS = ("html", "xsl", "javascript", "ecmascript", "jscript")

#: Types a browser shows without running anything: served inline, everything else
#: is served as a download.
INLINE_SAFE = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "application/pdf",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/mp4",
        "audio/aac",
        "audio/flac",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
    }
)

#: The default of ``AWS_UPLOAD_ALLOWED_CONTENT_TYPES``: raster images, PDF, plain text
#: and CSV, common office documents, audio and video, and archives.
SAFE_UPLOAD_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*",
    "audio/*",
    "video/*",
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/x-tar",
    "application/x-7z-compressed",
)

#: What a script-capable type is served as: a download of bytes, never a document.
OPAQUE = "application/octet-stream"


class MediaType(NamedTuple):
    """A parsed media type: ``type`` and ``subtype`` in lower case (parameters dropped)."""

    type: str
    subtype: str

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"


def parse(value: object) -> MediaType | None:
    """``value`` as a :class:`MediaType`, or None when it is not one.

    Case, parameters (``; charset=...``) and surrounding whitespace do not
    count. A list of types (``"image/png, text/html"``), a wildcard, or
    anything else that is not ``token/token`` is None.
    """
    if not isinstance(value, str):
        return None
    essence = value.split(";", 1)[0].strip(_WHITESPACE).lower()
    kind, slash, subtype = essence.partition("/")
    if not slash or not _TOKEN.fullmatch(kind) or not _TOKEN.fullmatch(subtype):
        return None
    if "*" in essence:
        return None
    return MediaType(kind, subtype)


def script_capable(media_type: MediaType) -> bool:
    """Whether a browser may run ``media_type`` as a page, a transform or a script."""
    subtype = media_type.subtype
    return (
        media_type.essence in SCRIPT_CAPABLE
        or subtype == "xml"
        or subtype.endswith(("+xml", "-xml"))
        or any(word in subtype for word in _SCRIPT_WORDS)
    )


def guessed(filename: str) -> MediaType | None:
    """The type a file's name suggests (``.svg`` → ``image/svg+xml``), if any."""
    return parse(mimetypes.guess_type(filename, strict=False)[0])


def allowed(media_type: MediaType, patterns: Iterable[str]) -> bool:
    """Whether one of ``patterns`` (types or wildcards, e.g. ``"image/*"``) admits the type.

    A wildcard never admits a script-capable type: ``"image/*"`` does not
    admit ``image/svg+xml``, nor ``"*/*"`` ``text/html``. Such a type is
    allowed only where it is listed by name.
    """
    essence = media_type.essence
    for pattern in patterns:
        wanted = pattern.split(";", 1)[0].strip(_WHITESPACE).lower()
        if wanted == essence:
            return True
        if (
            "*" in wanted
            and not script_capable(media_type)
            and fnmatch.fnmatchcase(essence, wanted)
        ):
            return True
    return False


class Serving(NamedTuple):
    """How an object of some type is served: its ``content_type`` and whether ``inline``."""

    content_type: str
    inline: bool


def serving(content_type: object) -> Serving:
    """How to serve an object stored as ``content_type``.

    Known safe types (:data:`INLINE_SAFE`) inline with their type; any other
    type as a download; a script-capable or unparsable one as a download of
    ``application/octet-stream``, so that nothing may render it.
    """
    media_type = parse(content_type)
    if media_type is None or script_capable(media_type):
        return Serving(OPAQUE, inline=False)
    return Serving(media_type.essence, inline=media_type.essence in INLINE_SAFE)


def content_disposition(inline: bool, filename: str) -> str:
    """The ``Content-Disposition`` of a served object named ``filename``.

    The name is the key's last segment, which patchbay makes of
    ``[A-Za-z0-9._-]`` only (:func:`~patchbay.aws.keys.sanitize_filename`),
    so it needs no quoting beyond the quotes.
    """
    return f'{"inline" if inline else "attachment"}; filename="{sanitize_filename(filename)}"'
