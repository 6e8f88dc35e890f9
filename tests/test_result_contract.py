"""Every public shortcut and client method answers hostile arguments with a result.

The operations are enumerated from the modules (the public functions of
``patchbay.<service>.shortcuts`` and the other operation modules, and the
public methods of each built-in client class), so a new one is walked
without being listed here. Each is called, simulated and live, with every
argument hostile at once and with each argument hostile in turn (the others
plausible): ``None``, empty, wrong types, a huge string, NUL, unknown ids,
negative and huge numbers, objects. Each call must return a result dict
(``success``, and on failure ``error``, ``error_code`` of the vocabulary and
``retryable``), or the value the spec fixes for the few that return none;
it must never raise.

Live, every configured service is stubbed: HTTP through ``responses`` with
nothing registered (so every request fails as a connection error), S3 through
moto, and any other socket to a host that is not this machine is refused.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import responses
from django.test import RequestFactory
from moto import mock_aws

from patchbay.aws.s3 import _sdk_client as s3_sdk_client
from patchbay.core import registry
from patchbay.core.client import BaseClient
from patchbay.error_codes import ERROR_CODES
from patchbay.models import StripeSubscription
from patchbay.stripe.client import _sdk_client as stripe_sdk_client
from patchbay.tenancy import UNSET
from patchbay.twilio.client import _sdk_client as twilio_sdk_client

pytestmark = pytest.mark.django_db

#: The modules whose public functions are operations callers use directly.
OPERATION_MODULES = (
    "patchbay.aws.shortcuts",
    "patchbay.loops.shortcuts",
    "patchbay.loops.login",
    "patchbay.stripe.shortcuts",
    "patchbay.twilio.shortcuts",
    "patchbay.twilio.verification",
)

#: Public callables that are not operations, by qualified name, with the reason.
NOT_OPERATIONS = {
    "patchbay.aws.shortcuts.content_type_allowed": "a predicate over a parsed content type",
    "patchbay.aws.shortcuts.direct_upload_method": "takes a configured S3Client, not input",
    "patchbay.loops.templates.template_id": "a lookup in LOOPS_TRANSACTIONAL_IDS",
    "patchbay.loops.login.create_login_token": "send_login_link's building block, for a saved user",
    "patchbay.loops.login.hash_token": "a pure hash of a string",
    "patchbay.loops.login.login_link": "a building block, documented to raise urls_not_mounted",
    "patchbay.core.client.BaseClient.call": "the plumbing every operation goes through",
    "patchbay.core.client.BaseClient.perform": "the plumbing every operation goes through",
    "patchbay.core.client.BaseClient.sdk": "imports the provider SDK",
    "patchbay.core.client.BaseClient.basic_auth": "a hook naming credentials to redact",
    "patchbay.core.client.BaseClient.retry_after": "a hook reading a 429's wait",
    "patchbay.core.client.BaseClient.add_secrets": "names more values to redact",
    "patchbay.core.client.BaseClient.http": "the transport operations send with (in send)",
    "patchbay.aws.s3.S3Client.probe": "the hook check_health calls (walked through it)",
    "patchbay.aws.s3.S3Client.translate_exception": "a hook mapping an exception",
    "patchbay.aws.s3.S3Client.public_url": "formats a URL from a key, nothing else",
    "patchbay.loops.client.LoopsClient.probe": "the hook check_health calls (walked through it)",
    "patchbay.loops.client.LoopsClient.translate_exception": "a hook mapping an exception",
    "patchbay.stripe.client.StripeClient.probe": "the hook check_health calls (walked through it)",
    "patchbay.stripe.client.StripeClient.translate_exception": "a hook mapping an exception",
    "patchbay.stripe.client.StripeClient.webhook_verifier": "returns the verifier object",
    "patchbay.stripe.client.StripeClient.retry_after": "a hook reading a 429's wait",
    "patchbay.twilio.client.TwilioClient.probe": "the hook check_health calls (walked through it)",
    "patchbay.twilio.client.TwilioClient.translate_exception": "a hook mapping an exception",
    "patchbay.twilio.client.TwilioClient.basic_auth": "a hook naming credentials to redact",
    "patchbay.twilio.client.TwilioClient.retry_after": "a hook reading a 429's wait",
}


def is_none(value: object) -> bool:
    return value is None


#: Operations whose return value the spec fixes, instead of a result dict.
FIXED_RETURNS: dict[str, Callable[[object], bool]] = {
    "patchbay.loops.shortcuts.send_password_reset_email": is_none,
    "patchbay.loops.login.send_login_code_email": is_none,
    "patchbay.loops.password_reset.send_password_reset_to_address": is_none,
    "patchbay.loops.shortcuts.send_team_membership_email": lambda value: type(value) is bool,
    "patchbay.stripe.shortcuts.get_active_subscription": lambda value: (
        value is None or isinstance(value, StripeSubscription)
    ),
    "patchbay.loops.login.is_usable": lambda value: value is False,
    "patchbay.loops.login.consume_login_token": is_none,
}

#: Keyword arguments that ``**kwargs`` of an operation reads by name.
DOCUMENTED_KWARGS = {
    "patchbay.loops.client.LoopsClient.transactional_email": (
        "bcc",
        "idempotency_key",
        "add_to_audience",
        "attachments",
    ),
    "patchbay.loops.client.LoopsClient.event": ("idempotency_key",),
    "patchbay.stripe.client.StripeClient.create_checkout_session": (
        "mode",
        "customer_id",
        "customer_email",
        "quantity",
    ),
    "patchbay.loops.templates.send_template": ("idempotency_key",),
}


class Opaque:
    """An object of no expected type."""

    def __repr__(self) -> str:
        return "<Opaque>"


def hostile_values() -> list[Any]:
    return [
        None,
        "",
        0,
        -1,
        1.5,
        float("nan"),
        10**30,
        True,
        "x" * 100_000,
        "nul\x00byte",
        "abc",
        b"\xff\x00bytes",
        [],
        {},
        {"k\x00": "v\x00", "nested": [Opaque()]},
        Opaque(),
    ]


# -- the operations, from the modules ----------------------------------------------------


def qualified_name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def explicit_reexports(module: Any) -> set[str]:
    """Names a module imports as themselves (``import x as x``): its re-exports."""
    tree = ast.parse(Path(module.__file__).read_text())
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }


def module_operations() -> dict[str, Callable[..., Any]]:
    found = {}
    for module_name in OPERATION_MODULES:
        module = importlib.import_module(module_name)
        reexported = explicit_reexports(module)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_"):
                continue
            if function.__module__ == module_name or name in reexported:
                found[qualified_name(function)] = function
    return found


def client_classes() -> list[type[BaseClient]]:
    return [
        client_class
        for client_class in registry.client_classes()
        if client_class.__module__ in registry.BUILTIN_CLIENT_MODULES
    ]


def client_operations() -> dict[str, tuple[type[BaseClient], str]]:
    found = {}
    for client_class in client_classes():
        for name, function in inspect.getmembers(client_class, inspect.isfunction):
            if not name.startswith("_"):
                # Named after the class walked, the method's own module and qualname
                # decide whether it is listed above.
                found[f"{client_class.__name__}.{name}"] = (client_class, qualified_name(function))
    return found


def operations() -> dict[str, str]:
    """Every operation walked: its test id → its qualified name."""
    walked = {name: name for name in module_operations() if name not in NOT_OPERATIONS}
    for walked_name, (_, name) in client_operations().items():
        if name not in NOT_OPERATIONS:
            walked[walked_name] = name
    return walked


# -- plausible arguments, by parameter name ----------------------------------------------


def plausible_values(user: Any, tmp_path: Path) -> dict[str, Callable[[], Any]]:
    source = tmp_path / "source.txt"
    source.write_bytes(b"data")

    def request() -> Any:
        made = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
        made.user = user
        return made

    return {
        "upload_id": lambda: 987654,
        "sms_id": lambda: 987654,
        "file_size": lambda: 4,
        "status": lambda: "complete",
        "error": lambda: "It failed.",
        "presigned": lambda: False,
        "expiration": lambda: 60,
        "original_filename": lambda: "photo.png",
        "content_type": lambda: "image/png",
        "max_file_size": lambda: 1000,
        "prefix": lambda: "uploads",
        "success_redirect_url": lambda: "https://example.com/done",
        "metadata": lambda: {"plan": "pro"},
        "owner": lambda: user,
        "user": lambda: user,
        "next_url": lambda: "/next/",
        "request": request,
        "reset_url": lambda: "https://example.com/reset",
        "ignore_suppression": lambda: False,
        "background": lambda: True,
        "url_name": lambda: "password_reset_confirm",
        "membership": lambda: SimpleNamespace(user=user, team="Acme", role="admin"),
        "key": lambda: "password_reset",
        "to_email": lambda: "ada@example.com",
        "data_variables": lambda: {"name": "Ada"},
        "subscription_id": lambda: "sub_walk",
        "at_period_end": lambda: True,
        "price_id": lambda: "price_walk",
        "success_url": lambda: "https://example.com/ok",
        "cancel_url": lambda: "https://example.com/cancel",
        "customer_email": lambda: "ada@example.com",
        "mode": lambda: "payment",
        "payload": lambda: b"{}",
        "signature": lambda: "t=1,v1=00",
        "to_number": lambda: "+14155552671",
        "body": lambda: "Hello",
        "from_number": lambda: None,
        "save_to_db": lambda: True,
        "channel": lambda: "sms",
        "phone_number": lambda: "+14155552671",
        "code": lambda: "123456",
        "token": lambda: "not-a-token",
        "object_key": lambda: "walk/object.txt",
        "etag": lambda: '"d41d8cd98f00b204e9800998ecf8427e"',
        "version_id": lambda: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
        "content_disposition": lambda: "attachment",
        "destination": lambda: str(tmp_path / "download.txt"),
        "conditions": lambda: None,
        "fields": lambda: None,
        "http_method": lambda: "GET",
        "content_length": lambda: 4,
        "max_keys": lambda: 10,
        "file_path": lambda: str(source),
        "public": lambda: False,
        "extra_args": lambda: None,
        "file_obj": lambda: io.BytesIO(b"data"),
        "email": lambda: "ada@example.com",
        "event_name": lambda: "signed_up",
        "event_properties": lambda: {"plan": "pro"},
        "transactional_id": lambda: "tpl_walk",
        "customer_id": lambda: "cus_walk",
        "return_url": lambda: "https://example.com/account",
        "name": lambda: "Ada",
        "payment_intent_id": lambda: "pi_walk",
        "charge_id": lambda: None,
        "amount": lambda: 100,
        "reason": lambda: "requested_by_customer",
        "trial_days": lambda: 7,
        "message_sid": lambda: "SM" + "0" * 32,
        "status_callback": lambda: None,
        "bcc": lambda: None,
        "idempotency_key": lambda: None,
        "add_to_audience": lambda: False,
        "attachments": lambda: None,
        "quantity": lambda: 1,
        "tenant": lambda: UNSET,
    }


def walked_parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    return [
        parameter
        for parameter in inspect.signature(function).parameters.values()
        if parameter.name != "self"
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def argument_sets(
    name: str, function: Callable[..., Any], plausible: dict[str, Callable[[], Any]]
) -> Iterator[dict[str, Any]]:
    """Keyword arguments to call ``function`` with: all hostile, then one at a time."""
    parameters = walked_parameters(function)
    names = [parameter.name for parameter in parameters]
    extra = list(DOCUMENTED_KWARGS.get(name, ()))
    missing = [name for name in names + extra if name not in plausible]
    assert not missing, f"add a plausible value for {missing} ({name})"
    required = [parameter.name for parameter in parameters if parameter.default is parameter.empty]
    for hostile in range(len(hostile_values())):
        yield {name: hostile_values()[hostile] for name in names}
        for target in names + extra:
            arguments = {name: plausible[name]() for name in required}
            arguments[target] = hostile_values()[hostile]
            yield arguments


# -- the two modes -----------------------------------------------------------------------

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every socket connection to another machine: the walk never leaves this one."""
    connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] not in LOCAL_HOSTS:
            raise OSError(f"test_result_contract: no network ({address[0]})")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def simulated(settings, tmp_path, no_network):
    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_SIMULATED_BUCKET_ROOT = str(tmp_path / "bucket")
    return settings


@pytest.fixture(scope="module")
def moto_bucket():
    """One moto S3 (with the walk's bucket) for the whole module: starting it costs."""
    with mock_aws():
        boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        ).create_bucket(Bucket="patchbay-walk")
        yield


@pytest.fixture
def live(settings, tmp_path, no_network, moto_bucket):
    settings.PATCHBAY_SIMULATE = False
    settings.PATCHBAY_PUBLIC_URL = "https://app.example.com"
    settings.PATCHBAY_MAX_RETRIES = 0
    settings.PATCHBAY_BREAKER_THRESHOLD = 10**9  # keep every call reaching send()
    settings.STRIPE_API_KEY = "sk_test_walk"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_walk"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "walk-auth-token"
    settings.TWILIO_PHONE_NUMBER = "+14155552672"
    settings.TWILIO_VERIFY_SERVICE_SID = "VA" + "0" * 32
    settings.LOOPS_API_KEY = "loops-walk-key"
    settings.LOOPS_RETRY_BACKOFF = 0
    settings.LOOPS_TRANSACTIONAL_IDS = {
        "password_reset": "tpl_reset",
        "login_code": "tpl_login",
        "team_membership": "tpl_team",
    }
    settings.AWS_ACCESS_KEY_ID = "AKIAWALK"
    settings.AWS_SECRET_ACCESS_KEY = "walk-secret-access-key"
    settings.AWS_STORAGE_BUCKET_NAME = "patchbay-walk"
    settings.AWS_REGION = "us-east-1"
    for cached in (s3_sdk_client, stripe_sdk_client, twilio_sdk_client):
        cached.cache_clear()
    # Started after moto: every request through requests meets this mock first.
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield settings
    for cached in (s3_sdk_client, stripe_sdk_client, twilio_sdk_client):
        cached.cache_clear()


@pytest.fixture(params=["simulated", "live"])
def mode(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


# -- the walk ----------------------------------------------------------------------------


def is_result(value: object) -> bool:
    if not isinstance(value, dict) or value.get("success") not in (True, False):
        return False
    if value["success"]:
        return True
    code = value.get("error_code")
    return (
        isinstance(value.get("error"), str)
        and bool(value["error"])
        and isinstance(code, str)
        and (code in ERROR_CODES or code.startswith("twilio_"))
        # What an input check refuses has its own code: unexpected_error would mean a
        # check is missing and the exception was caught by the last resort.
        and code != "unexpected_error"
        and isinstance(value.get("retryable"), bool)
    )


def callable_for(walked_name: str) -> tuple[str, Callable[..., Any], Callable[..., Any]]:
    """The operation's qualified name, the function to inspect and the one to call."""
    name = operations()[walked_name]
    functions = module_operations()
    if name in functions and walked_name == name:
        return name, functions[name], functions[name]
    client_class, _ = client_operations()[walked_name]
    method_name = walked_name.rsplit(".", 1)[1]

    def call(**arguments: Any) -> Any:
        return getattr(client_class(), method_name)(**arguments)

    return name, getattr(client_class, method_name), call


def shown(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r:.40}" for key, value in arguments.items())


@pytest.mark.parametrize("walked_name", sorted(operations()))
def test_every_operation_answers_hostile_arguments_with_a_result(
    walked_name, mode, user, tmp_path, caplog
):
    name, function, call = callable_for(walked_name)
    expected = FIXED_RETURNS.get(name, is_result)
    escapes = []
    for arguments in argument_sets(name, function, plausible_values(user, tmp_path)):
        try:
            returned = call(**arguments)
        except Exception as exc:
            escapes.append(f"({shown(arguments)}) raised {type(exc).__name__}: {exc!s:.200}")
            continue
        if not expected(returned):
            escapes.append(f"({shown(arguments)}) returned {returned!r:.200}")
        caplog.clear()  # thousands of calls log; keep memory flat
    assert escapes == [], f"{walked_name}: {len(escapes)} escapes, e.g.\n" + "\n".join(escapes[:15])


def test_the_walk_finds_the_operations():
    walked = operations()
    assert {
        "patchbay.aws.shortcuts.complete_upload",
        "patchbay.twilio.shortcuts.get_sms_status",
        "patchbay.loops.login.send_login_code_email",  # a re-export of loops.shortcuts
        "patchbay.twilio.verification.initiate_phone_verification",
        "StripeClient.create_refund",
        "S3Client.download_file",
        "TwilioClient.check_health",
        "LoopsClient.transactional_email",
    } <= walked.keys()
    assert len(walked) > 45
    assert not any(name.startswith("patchbay.results") for name in walked)  # imports are not


def test_every_listed_exception_still_exists():
    names = set(module_operations()) | {name for _, name in client_operations().values()}
    assert set(NOT_OPERATIONS) - names == set()
    assert set(FIXED_RETURNS) - names == set()
    assert set(DOCUMENTED_KWARGS) - names == set()


def test_the_walk_is_offline(live):
    with pytest.raises(OSError, match="no network"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
