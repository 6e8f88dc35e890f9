"""Whose request it is: the client address the per-IP send limits count (issue 14, finding 6).

Behind nginx talking to gunicorn over a unix socket, ``REMOTE_ADDR`` is empty.
The per-IP limits used to run only when there was an address, so such a
deployment had none: 14 codes to 14 numbers from one client all went out
(limit 10). A request without a usable address now counts in one shared
bucket, and a project behind a proxy names the header its proxy sets.
"""

from __future__ import annotations

import logging

import pytest
from django.core.checks import run_checks
from django.test import RequestFactory

from patchbay.core import ratelimit
from patchbay.models import PhoneVerification

START_URL = "/integrations/phone/verify/start/"
NUMBERS = [f"+1415555{2600 + i:04d}" for i in range(14)]


@pytest.fixture(autouse=True)
def _fresh_warning():
    ratelimit._warned_unknown.clear()
    yield
    ratelimit._warned_unknown.clear()


def request(remote_addr="", **headers):
    return RequestFactory().post("/", REMOTE_ADDR=remote_addr, **headers)


def messages(check_id):
    return [message for message in run_checks() if message.id == check_id]


# -- the attack ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_behind_a_unix_socket_one_client_cannot_start_codes_to_unlimited_numbers(client, settings):
    """The report: nginx → gunicorn over a unix socket, so REMOTE_ADDR is ""."""
    settings.PATCHBAY_SIMULATE = True
    answers = [
        client.post(START_URL, {"phone_number": number}, REMOTE_ADDR="").status_code
        for number in NUMBERS
    ]

    assert answers == [200] * 10 + [429] * 4
    assert PhoneVerification.objects.count() == 10


@pytest.mark.django_db
def test_sign_in_links_without_an_address_share_one_limit(settings, django_user_model):
    from patchbay.loops import login

    settings.PATCHBAY_SIMULATE = True
    settings.PATCHBAY_MAGIC_LINK_SENDS_PER_IP = 2
    users = [
        django_user_model.objects.create_user(f"u{i}", f"u{i}@example.com", "pw") for i in range(3)
    ]

    sent = [login.send_login_link(user, request=request())["success"] for user in users]

    assert sent == [True, True, False]


# -- the resolver --------------------------------------------------------------------------


def test_by_default_the_address_is_remote_addr_never_a_forwarded_header():
    forged = request("203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert ratelimit.client_ip(forged) == "203.0.113.7"


@pytest.mark.parametrize("remote_addr", ["", "unix:/run/gunicorn.sock", "not an address"])
def test_a_request_without_a_usable_address_is_the_unknown_client(remote_addr):
    assert ratelimit.client_ip(request(remote_addr)) == ratelimit.UNKNOWN_CLIENT


def test_without_a_request_there_is_no_client():
    # A send made by the server itself (a command, a task): only the target's limit counts.
    assert ratelimit.client_ip(None) == ""


def test_the_unknown_client_is_never_stored_as_an_address():
    assert ratelimit.storable_ip(ratelimit.client_ip(request())) is None


def test_the_first_request_without_an_address_is_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="patchbay")

    for _ in range(5):
        ratelimit.client_ip(request())

    warnings = [
        record for record in caplog.records if "PATCHBAY_CLIENT_IP_HEADER" in record.message
    ]
    assert len(warnings) == 1
    assert "one shared limit" in warnings[0].message


class TestTrustedProxyCount:
    @pytest.fixture(autouse=True)
    def _behind_one_proxy(self, settings):
        settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"

    def test_the_address_the_proxy_saw_is_the_rightmost(self):
        # nginx appends $remote_addr: what the client wrote comes first.
        forwarded = request(HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")

        assert ratelimit.client_ip(forwarded) == "203.0.113.7"

    def test_hops_a_client_writes_are_never_trusted(self):
        for forged in ("10.0.0.1", "10.0.0.1, 10.0.0.2, 10.0.0.3"):
            assert ratelimit.client_ip(request(HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7")) == (
                "203.0.113.7"
            )

    def test_two_proxies(self, settings):
        settings.PATCHBAY_TRUSTED_PROXIES = 2
        forwarded = request(HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7, 10.0.0.2")

        assert ratelimit.client_ip(forwarded) == "203.0.113.7"

    def test_fewer_hops_than_proxies_is_the_unknown_client(self, settings):
        settings.PATCHBAY_TRUSTED_PROXIES = 2

        assert ratelimit.client_ip(request(HTTP_X_FORWARDED_FOR="203.0.113.7")) == (
            ratelimit.UNKNOWN_CLIENT
        )

    @pytest.mark.parametrize("value", [None, "", " , ", "garbage", "203.0.113.7, garbage"])
    def test_a_missing_or_garbled_header_is_the_unknown_client(self, value):
        headers = {} if value is None else {"HTTP_X_FORWARDED_FOR": value}

        assert ratelimit.client_ip(request("10.0.0.1", **headers)) == ratelimit.UNKNOWN_CLIENT

    @pytest.mark.parametrize(
        ("hop", "address"),
        [
            ("203.0.113.7:51234", "203.0.113.7"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("2001:DB8::7", "2001:db8::7"),
        ],
    )
    def test_ports_and_brackets_are_read(self, hop, address):
        assert ratelimit.client_ip(request(HTTP_X_FORWARDED_FOR=hop)) == address

    def test_a_single_value_header(self, settings):
        settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"

        assert ratelimit.client_ip(request(HTTP_X_REAL_IP="203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("header", "proxies", "client"),
    [
        (["HTTP_X_FORWARDED_FOR"], 1, ratelimit.UNKNOWN_CLIENT),
        ("X", "two", ratelimit.UNKNOWN_CLIENT),
        # No network parses: no proxy is trusted, and REMOTE_ADDR is the client.
        ("HTTP_X_FORWARDED_FOR", [["10.0.0.0/8"], 10], "203.0.113.9"),
    ],
)
def test_settings_of_the_wrong_type_never_raise_nor_trust_the_header(
    settings, header, proxies, client
):
    # The checks report them (E036, E037); a server started without checks stays limited.
    settings.PATCHBAY_CLIENT_IP_HEADER = header
    settings.PATCHBAY_TRUSTED_PROXIES = proxies

    forged = request("203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert ratelimit.client_ip(forged) == client


class TestTrustedProxyNetworks:
    @pytest.fixture(autouse=True)
    def _behind_a_load_balancer(self, settings):
        settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
        settings.PATCHBAY_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]

    def test_the_first_untrusted_hop_from_the_right_is_the_client(self):
        forwarded = request("10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7, 10.1.2.3")

        assert ratelimit.client_ip(forwarded) == "203.0.113.7"

    def test_a_request_that_did_not_come_through_a_proxy_is_its_own_client(self):
        # Straight to the application server: the header is the client's own words.
        direct = request("203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1")

        assert ratelimit.client_ip(direct) == "203.0.113.9"

    def test_over_a_unix_socket_the_peer_is_the_local_proxy(self):
        assert ratelimit.client_ip(request("", HTTP_X_FORWARDED_FOR="203.0.113.7")) == (
            "203.0.113.7"
        )

    def test_only_trusted_hops_is_the_unknown_client(self):
        assert ratelimit.client_ip(request("10.0.0.5", HTTP_X_FORWARDED_FOR="10.0.0.1")) == (
            ratelimit.UNKNOWN_CLIENT
        )


# -- the limits ----------------------------------------------------------------------------


def check(client_ip):
    return ratelimit.check_send_limits(
        "client-address-test",
        target=("number", "+14155552671"),
        client_ip=client_ip,
        per_target=100,
        per_ip=2,
        window=60,
        requested="codes",
    )


def test_the_unknown_client_is_one_bucket():
    assert check(ratelimit.UNKNOWN_CLIENT) is None
    assert check(ratelimit.UNKNOWN_CLIENT) is None

    assert check(ratelimit.UNKNOWN_CLIENT)["error_code"] == "rate_limited"
    assert check("203.0.113.7") is None


def test_ipv6_clients_are_counted_by_their_64_bit_network():
    # One host of an IPv6 network has 2**64 addresses to choose from.
    assert check("2001:db8:1:2::1") is None
    assert check("2001:db8:1:2:ffff::9") is None

    assert check("2001:db8:1:2::3")["error_code"] == "rate_limited"
    assert check("2001:db8:1:3::1") is None


# -- the checks ----------------------------------------------------------------------------


def test_a_header_that_is_no_meta_key_is_an_error(settings):
    settings.PATCHBAY_CLIENT_IP_HEADER = "X-Forwarded-For"

    [error] = messages("patchbay.E036")
    assert "HTTP_X_FORWARDED_FOR" in error.hint


@pytest.mark.parametrize("value", [0, -1, True, "1", ["10.0.0.0/33"], ["proxy.local"], [1]])
def test_trusted_proxies_must_be_a_count_or_networks(settings, value):
    settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PATCHBAY_TRUSTED_PROXIES = value

    assert len(messages("patchbay.E037")) == 1


def test_trusted_proxies_without_a_header_do_nothing(settings):
    settings.PATCHBAY_TRUSTED_PROXIES = 1

    assert len(messages("patchbay.W030")) == 1


def test_trusting_every_network_is_a_warning(settings):
    settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PATCHBAY_TRUSTED_PROXIES = ["0.0.0.0/0"]

    [warning] = messages("patchbay.W031")
    assert "0.0.0.0/0" in warning.msg


def test_behind_a_tls_proxy_without_a_client_header_is_a_warning(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert len(messages("patchbay.W032")) == 1
    settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert messages("patchbay.W032") == []


def test_a_sound_configuration_is_silent(settings):
    settings.PATCHBAY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PATCHBAY_TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]

    ids = {message.id for message in run_checks()}
    assert not ids & {"patchbay.E036", "patchbay.E037", "patchbay.W030", "patchbay.W031"}
