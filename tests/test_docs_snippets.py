"""Every Python snippet a reader can copy runs, or says that it is a fragment.

The snippets are the ```` ```python ```` fences of README.md and
src/patchbay/*/README.md, and the ``.. code-block:: python`` and ``::``
literal blocks of docs/*.rst (Sphinx highlights a literal block as Python
unless a ``.. highlight::`` says otherwise, so a block that is not Python
says so: ``.. code-block:: text``). Each one is compiled, checked by pyflakes
for undefined names, and executed:

* A *settings* snippet, whose top-level statements are only imports and
  assignments to UPPER_CASE names, runs in a namespace of its own with the
  environment variables of ``ENVIRONMENT`` set, and what it assigns (but
  ``INSTALLED_APPS``, ``CACHES`` and ``DATABASES``, which would rebuild the
  project) is applied to the test settings: patchbay's system checks must
  then report no error.
* Any other snippet runs in the test project (tests.settings, tests.urls plus
  the URL names the documented views redirect to, a database) in simulation,
  with no request leaving the machine. A function named ``test_*`` that it
  defines is then called with the pytest fixtures it names, and, when it names
  none of ``DATABASE_FIXTURES``, with database access refused, as pytest-django
  runs a test without a database; a function whose
  first argument is ``request`` (a view) must have an entry in ``VIEW_CALLS``,
  which calls it with a request and checks what it answers.

Two markers, on the last non-blank line before the block, visible in the
source but not in the rendered page, change that:

* ``.. fragment`` (reST comment) or ``<!-- fragment -->`` (Markdown): the
  snippet is not checked at all. Only for what truly cannot run: an excerpt
  elided with ``...``, the shape of a value, code that uses the reader's own
  models or placeholders.
* ``.. given: request, user`` or ``<!-- given: request, user -->``: the
  snippet uses these names without defining them, as code inside a view
  does; the test defines them (``request``: a POST request by ``user``, with a
  session and messages; ``user``: a saved user; ``client``: a test client).
"""

from __future__ import annotations

import ast
import base64
import inspect
import json
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import responses
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.checks import ERROR, run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.dispatch import Signal
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from pyflakes import messages as flakes
from pyflakes.checker import Checker

import patchbay.signals
from patchbay.core.simulation import outbox
from patchbay.testing import simulate
from patchbay.webhooks import registry
from tests.urls import urlpatterns as test_urlpatterns

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN_SOURCES = ["README.md", "src/patchbay/*/README.md"]
RST_SOURCES = ["docs/*.rst"]

PYTHON = {"python", "python3", "py", "default"}  # "default" is Sphinx's default: Python
GIVEN_NAMES = {"request", "user", "client"}


@dataclass(frozen=True)
class Snippet:
    path: str
    line: int  # of the fence or directive, for the test id
    first_line: int  # of the code, for tracebacks and pyflakes
    code: str
    fragment: bool = False
    given: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def source(self) -> str:
        """The code on its lines of the file, so errors name the file's line numbers."""
        return "\n" * (self.first_line - 1) + self.code


class MarkerError(ValueError):
    pass


def _marker(lines: list[str], index: int, fragment: str, given: re.Pattern[str]) -> dict[str, Any]:
    for previous in reversed(lines[:index]):
        if previous.strip():
            text = previous.strip()
            if text == fragment:
                return {"fragment": True}
            if match := given.fullmatch(text):
                names = frozenset(n.strip() for n in match["names"].split(","))
                if unknown := names - GIVEN_NAMES:
                    raise MarkerError(f"given names {sorted(unknown)} are none of {GIVEN_NAMES}")
                return {"given": names}
            return {}
    return {}


FENCE = re.compile(r"(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)")
MD_GIVEN = re.compile(r"<!--\s*given:\s*(?P<names>[\w\s,]+?)\s*-->")


def markdown_snippets(path: str, text: str) -> list[Snippet]:
    lines = text.splitlines()
    snippets = []
    index = 0
    while index < len(lines):
        opening = FENCE.fullmatch(lines[index])
        if not opening:
            index += 1
            continue
        start, indent, fence = index, opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].lower()
        body = []
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence) and not closing.strip(fence[0]):
                break
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1
        if language in PYTHON:
            marker = _marker(lines, start, "<!-- fragment -->", MD_GIVEN)
            code = "\n".join(body) + "\n"
            snippets.append(Snippet(path, start + 1, start + 2, code, **marker))
    return snippets


CODE_DIRECTIVE = re.compile(
    r"(?P<indent>\s*)\.\.\s+(?:code-block|code|sourcecode)::\s*(?P<language>\S*)\s*"
)
HIGHLIGHT = re.compile(r"\s*\.\.\s+highlight::\s*(?P<language>\S+)\s*")
RST_GIVEN = re.compile(r"\.\.\s+given:\s*(?P<names>[\w\s,]+?)")


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip())


def rst_snippets(path: str, text: str) -> list[Snippet]:
    lines = text.splitlines()
    default = "default"
    snippets = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if highlight := HIGHLIGHT.fullmatch(line):
            default = highlight["language"].lower()
            index += 1
            continue
        directive = CODE_DIRECTIVE.fullmatch(line)
        # A paragraph ending in "::" (an explicit markup line, "..", is no paragraph).
        literal = line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if not directive and not literal:
            index += 1
            continue
        start = index
        language = (directive["language"] or default).lower() if directive else default
        index += 1
        while directive and index < len(lines) and lines[index].lstrip().startswith(":"):
            index += 1  # the directive's options
        while index < len(lines) and not lines[index].strip():
            index += 1
        body_start = index
        # The block is what is indented more than the line that opens it, down to where its
        # own indentation ends (a list item's text is indented less than its code).
        cut = _indentation(lines[index]) if index < len(lines) else 0
        if cut <= _indentation(line):
            continue
        while index < len(lines) and (
            not lines[index].strip() or _indentation(lines[index]) >= cut
        ):
            index += 1
        body = lines[body_start:index]
        while body and not body[-1].strip():
            body.pop()
        if language not in PYTHON:
            continue
        code = "\n".join(body_line[cut:] for body_line in body) + "\n"
        marker = _marker(lines, start, ".. fragment", RST_GIVEN)
        snippets.append(Snippet(path, start + 1, body_start + 1, code, **marker))
    return snippets


def collect_snippets() -> list[Snippet]:
    snippets = []
    for pattern in MARKDOWN_SOURCES:
        for file in sorted(ROOT.glob(pattern)):
            name = file.relative_to(ROOT).as_posix()
            snippets += markdown_snippets(name, file.read_text(encoding="utf-8"))
    for pattern in RST_SOURCES:
        for file in sorted(ROOT.glob(pattern)):
            name = file.relative_to(ROOT).as_posix()
            snippets += rst_snippets(name, file.read_text(encoding="utf-8"))
    return snippets


SNIPPETS = collect_snippets()
CHECKED = [snippet for snippet in SNIPPETS if not snippet.fragment]


def checked_snippets() -> Any:
    return pytest.mark.parametrize("snippet", CHECKED, ids=str)


# -- The extraction itself ----------------------------------------------------------------


def test_markdown_fences_and_markers():
    text = "\n".join(
        [
            "```python",  # 1
            "a = 1",
            "```",
            "<!-- fragment -->",
            "",
            "```py",  # 6
            "b = ...",
            "```",
            "<!-- given: request, user -->",
            "- item:",  # 10
            "  ```python",
            "  c = request.user",
            "  ```",
            "```console",
            "$ python manage.py migrate",
            "```",
        ]
    )
    snippets = markdown_snippets("x.md", text)

    assert [(s.line, s.first_line, s.code, s.fragment) for s in snippets] == [
        (1, 2, "a = 1\n", False),
        (6, 7, "b = ...\n", True),
        (11, 12, "c = request.user\n", False),
    ]
    # The marker counts only on the line right before the fence.
    assert snippets[2].given == frozenset()


def test_rst_blocks_and_markers():
    text = "\n".join(
        [
            ".. code-block:: python",  # 1
            "   :caption: settings.py",
            "",
            "   A = 1",  # 4
            "",
            "   if A:",
            "       B = 2",
            "",
            "Some text.",
            "",  # 10
            ".. fragment",
            "",
            ".. code-block:: python",  # 13
            "",
            "    {'success': True, ...}",
            "",
            "1. A step, in a list::",  # 17
            "",
            "       C = 3",
            "",
            "   .. given: request",  # 21
            "   .. code-block:: python",
            "",
            "      request.user",
            "",
            ".. code-block:: console",
            "",
            "   $ python manage.py migrate",
            "",
            ".. highlight:: text",  # 30
            "",
            "A tree::",
            "",
            "    acme/",
            "        apps.py",
        ]
    )
    snippets = rst_snippets("x.rst", text)

    assert [(s.line, s.first_line, s.code, s.fragment, s.given) for s in snippets] == [
        (1, 4, "A = 1\n\nif A:\n    B = 2\n", False, frozenset()),
        (13, 15, "{'success': True, ...}\n", True, frozenset()),
        (17, 19, "C = 3\n", False, frozenset()),
        (22, 24, "request.user\n", False, frozenset({"request"})),
    ]


def test_a_given_name_outside_the_vocabulary_is_refused():
    with pytest.raises(MarkerError, match="order"):
        rst_snippets("x.rst", ".. given: request, order\n.. code-block:: python\n\n   1\n")


def test_every_python_block_of_the_docs_is_collected():
    """A cross-check with a plain count, so a parser change cannot drop blocks unnoticed."""
    by_file: dict[str, int] = {}
    for snippet in SNIPPETS:
        by_file[snippet.path] = by_file.get(snippet.path, 0) + 1
    for file in ROOT.glob("docs/*.rst"):
        expected = len(re.findall(r"^\s*\.\. code-block:: python\s*$", file.read_text(), re.M))
        literal = len(re.findall(r"^(?!\s*\.\.).*::\s*$", file.read_text(), re.M))
        assert expected <= by_file.get(f"docs/{file.name}", 0) <= expected + literal, file.name
    for file in [ROOT / "README.md", *ROOT.glob("src/patchbay/*/README.md")]:
        expected = len(re.findall(r"^\s*```python\s*$", file.read_text(), re.M))
        assert by_file.get(file.relative_to(ROOT).as_posix(), 0) == expected, file.name
    assert len(CHECKED) > len(SNIPPETS) / 2


# -- Compiling and pyflakes ----------------------------------------------------------------

# A snippet may import more than it uses, to show where things live.
HARMLESS = (flakes.UnusedImport, flakes.UnusedVariable, flakes.UnusedAnnotation)


@checked_snippets()
def test_snippet_compiles_with_every_name_defined(snippet):
    tree = ast.parse(snippet.source, filename=snippet.path)
    checker = Checker(tree, filename=snippet.path, builtins=set(snippet.given))
    problems = [str(m) for m in checker.messages if not isinstance(m, HARMLESS)]
    assert not problems, "\n".join(problems)
    compile(snippet.source, snippet.path, "exec")


# -- Running -------------------------------------------------------------------------------

# What the environment holds where a settings snippet reads os.environ.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "R2_ACCESS_KEY_ID": "0123456789abcdef0123456789abcdef",
    "R2_SECRET_ACCESS_KEY": "0123456789abcdef" * 4,
    "PATCHBAY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "LOOPS_API_KEY": "loops-api-key",
    "LOOPS_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"a loops webhook secret").decode(),
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "0" * 32,
    "STRIPE_WEBHOOK_SECRET": "whsec_a_stripe_webhook_secret",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
# Settings that a snippet assigns but that would rebuild the test project.
NOT_APPLIED = {"INSTALLED_APPS", "CACHES", "DATABASES"}


def is_settings_snippet(code: str) -> bool:
    def setting(target: ast.expr) -> bool:
        while isinstance(target, ast.Subscript):
            target = target.value
        return isinstance(target, ast.Name) and target.id.isupper()

    statements = ast.parse(code).body
    assignments = [s for s in statements if isinstance(s, (ast.Assign, ast.AnnAssign))]
    return bool(assignments) and all(
        isinstance(s, (ast.Import, ast.ImportFrom))
        or (isinstance(s, ast.Assign) and all(setting(t) for t in s.targets))
        or (isinstance(s, ast.AnnAssign) and setting(s.target))
        for s in statements
    )


@pytest.fixture
def registered_receivers() -> Iterator[None]:
    """A snippet's webhook handlers and signal receivers stay in its own test."""
    handlers = {key: list(value) for key, value in registry._handlers.items()}
    signals = [s for s in vars(patchbay.signals).values() if isinstance(s, Signal)]
    receivers = {signal: list(signal.receivers) for signal in signals}
    yield
    registry._handlers.clear()
    registry._handlers.update(handlers)
    for signal, saved in receivers.items():
        with signal.lock:
            signal.receivers[:] = saved
            signal.sender_receivers_cache.clear()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ada", "ada@example.com", "a-password")


@pytest.fixture
def view_request(user) -> Callable[..., Any]:
    """A POST request by ``user``, as a view gets it after the middleware."""

    def make(**data: Any) -> Any:
        data = {
            "email": user.email,
            "filename": "me.png",
            "content_type": "image/png",
            "report": SimpleUploadedFile("report.pdf", b"%PDF-1.4", "application/pdf"),
            **data,
        }
        request = RequestFactory().post("/", data)
        request.user = user
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        return request

    return make


def _sent(provider: str, operation: str | None = None) -> list[Any]:
    return outbox.filter(provider=provider, operation=operation)


def call_subscribe(view, make_request):
    response = view(make_request())
    assert response.status_code == 302
    assert _sent("stripe")


def call_send_sms_view(view, make_request, make_argument):
    from patchbay.models import PhoneOptOut

    assert view(make_request(), make_argument("+14155552671")) is None
    assert _sent("twilio", "send_sms")

    PhoneOptOut.objects.create(phone_number="+14155552672")
    request = make_request()
    view(request, make_argument("+14155552672"))
    assert [m.level_tag for m in get_messages(request)] == ["error"]


@override_settings(LOOPS_TRANSACTIONAL_IDS={"login_code": "cm1logincode"})
def call_sign_in_link(view, make_request):
    response = view(make_request())
    assert response.status_code == 302
    assert response.url == "/check-your-email/"
    assert _sent("loops", "transactional_email")

    outbox.clear()
    assert view(make_request(email="nobody@example.com")).url == "/check-your-email/"
    assert not _sent("loops")


def call_upload_form(view, make_request):
    response = view(make_request())
    assert response.status_code == 200, response.content
    assert {"form_url", "form_fields", "upload_id"} <= set(json.loads(response.content))

    refused = view(make_request(filename=""))
    assert refused.status_code == 400
    assert json.loads(refused.content)["error"] == "A filename is required."


def order(phone: str) -> Any:
    return SimpleNamespace(phone=phone, number="1001")


def appointment(phone: str) -> Any:
    return SimpleNamespace(phone=phone, time=datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc))


# How each documented view is called, by the name the docs give it.
VIEW_CALLS: dict[str, Callable[..., None]] = {
    "subscribe": call_subscribe,
    "notify_shipped": lambda view, make: call_send_sms_view(view, make, order),
    "remind": lambda view, make: call_send_sms_view(view, make, appointment),
    "email_me_a_link": call_sign_in_link,
    "avatar_upload_form": call_upload_form,
    "avatar_form": call_upload_form,
}

# tests.urls, plus the pages the documented views redirect to.
urlpatterns = [
    *test_urlpatterns,
    path("check-your-email/", lambda request: HttpResponse(), name="check-your-email"),
]


def _functions(namespace: dict[str, Any]) -> list[Any]:
    return [
        value
        for value in namespace.values()
        if inspect.isfunction(value) and value.__module__ == "docs_snippet"
    ]


@checked_snippets()
@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_snippet_runs(snippet, request, monkeypatch, settings, tmp_path, registered_receivers):
    settings.MEDIA_ROOT = str(tmp_path)  # where the simulated bucket keeps its objects
    if is_settings_snippet(snippet.code):
        run_settings_snippet(snippet, monkeypatch)
    else:
        run_code_snippet(snippet, request)


def run_settings_snippet(snippet: Snippet, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": "settings_snippet"}
    exec(compile(snippet.source, snippet.path, "exec"), namespace)  # noqa: S102
    assigned = {
        name: value
        for name, value in namespace.items()
        if name.isupper() and name not in NOT_APPLIED
    }
    with override_settings(**assigned):
        errors = [
            message
            for message in run_checks(include_deployment_checks=False)
            if message.id and message.id.startswith("patchbay.") and message.level >= ERROR
        ]
    assert not errors, errors


def run_code_snippet(snippet: Snippet, request: pytest.FixtureRequest) -> None:
    given: dict[str, Any] = {}
    if "user" in snippet.given:
        given["user"] = request.getfixturevalue("user")
    if "request" in snippet.given:
        given["request"] = request.getfixturevalue("view_request")()
    if "client" in snippet.given:
        given["client"] = Client()
    namespace: dict[str, Any] = {"__name__": "docs_snippet", **given}
    # Simulation as in development; the mock refuses any request that would still go out.
    with responses.RequestsMock(), simulate():
        exec(compile(snippet.source, snippet.path, "exec"), namespace)  # noqa: S102
        for view in _functions(namespace):
            if _parameters(view)[:1] == ["request"]:
                call = VIEW_CALLS.get(view.__name__)
                assert call, f"say in VIEW_CALLS how to call the view {view.__name__}()"
                call(view, request.getfixturevalue("view_request"))
    # A documented test runs as pytest would run it: with its fixtures, nothing more, and
    # without a database unless it asks for one.
    with responses.RequestsMock():
        for test in _functions(namespace):
            if test.__name__.startswith("test_"):
                names = _parameters(test)
                fixtures = {name: request.getfixturevalue(name) for name in names}
                blocker = request.getfixturevalue("django_db_blocker")
                with nullcontext() if DATABASE_FIXTURES & set(names) else blocker.block():
                    test(**fixtures)


# The fixtures that give a documented test a database.
DATABASE_FIXTURES = {"db", "transactional_db", "admin_client", "admin_user"}


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)
