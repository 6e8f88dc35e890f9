"""Phone numbers: parsed and normalized to E.164 with ``phonenumbers`` before any call.

Simulating in a project without ``phonenumbers`` (no ``twilio`` extra), a
number is accepted only if it is already strict E.164 (see
:data:`STRICT_E164`): simulation needs no SDK, and a number that parses
without one cannot be read wrongly. Live, ``phonenumbers`` is required.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from patchbay.conf import conf
from patchbay.core.sdk import import_sdk, sdk_available
from patchbay.exceptions import ServiceError

#: What simulation accepts without ``phonenumbers``: ``+``, a country code that does not
#: start with 0, and 7 to 14 more digits (E.164 numbers have at most 15), nothing else.
STRICT_E164 = re.compile(r"\+[1-9][0-9]{7,14}")

SMS = "sms"
WHATSAPP = "whatsapp"
_WHATSAPP_PREFIX = "whatsapp:"
_EXAMPLE = "+14155552671"


class Address(NamedTuple):
    """A destination or sender: its channel and its E.164 number."""

    channel: str
    number: str

    @property
    def twilio(self) -> str:
        """The address as Twilio's API wants it (``whatsapp:+…`` for WhatsApp)."""
        return f"{_WHATSAPP_PREFIX}{self.number}" if self.channel == WHATSAPP else self.number


def normalize(number: str, region: str | None = None, *, simulating: bool = False) -> str:
    """``number`` in E.164 (``+14155552671``), or a ``ServiceError`` ``invalid_number``.

    Numbers without a ``+`` are read in ``region``, else ``TWILIO_DEFAULT_REGION``.
    ``simulating`` without ``phonenumbers`` installed, only strict E.164 is
    accepted (:data:`STRICT_E164`); otherwise a missing ``phonenumbers``
    raises :class:`~patchbay.exceptions.SDKNotInstalled`. The error says how
    to write the number (or that it is empty).
    """
    text = str(number or "").strip()
    if not text:
        raise ServiceError(
            f"The phone number is empty: enter it with its country code (e.g. {_EXAMPLE}).",
            error_code="invalid_number",
        )
    if simulating and not _phonenumbers_installed():
        if STRICT_E164.fullmatch(text):
            return text
        raise ServiceError(
            f"{text:.40} is not a valid phone number: without phonenumbers (pip install "
            f'"django-patchbay[twilio]"), simulation accepts only E.164, e.g. {_EXAMPLE}.',
            error_code="invalid_number",
        )
    return _normalize(text, region or conf.TWILIO_DEFAULT_REGION)


@functools.cache
def _phonenumbers_installed() -> bool:
    return sdk_available("phonenumbers")


# Parsing costs tens of microseconds; a send parses its destination once (the shortcut
# hands the Address down), but its sender, the same few numbers, on every send:
# remember the answers. Invalid numbers raise, and lru_cache keeps no exception, so
# they are parsed every time.
@functools.lru_cache(maxsize=4096)
def _normalize(number: str, region: str | None) -> str:
    phonenumbers = import_sdk("phonenumbers", "twilio")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(number, region) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid(number, region)
    e164: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164


def parse_address(address: str, channel: str | None = None, *, simulating: bool = False) -> Address:
    """An :class:`Address` from ``+1…`` or ``whatsapp:+1…``; ``channel`` may force one.

    ``simulating``: as for :func:`normalize`.
    """
    text = str(address or "").strip()
    if text.lower().startswith(_WHATSAPP_PREFIX):
        text, channel = text[len(_WHATSAPP_PREFIX) :], WHATSAPP
    if channel not in (None, SMS, WHATSAPP):
        raise ServiceError(
            f"Unknown channel {channel!r}: use 'sms' or 'whatsapp'.", error_code="invalid_channel"
        )
    return Address(channel or SMS, normalize(text, simulating=simulating))


def _invalid(number: str, region: str | None) -> ServiceError:
    shown = f'"{number:.40}" is not a valid phone number'
    if number.startswith("+"):
        fix = f": check the country code and the digits after it (e.g. {_EXAMPLE})."
    elif region:
        fix = f" in {region}: check it, or include the country code (e.g. {_EXAMPLE})."
    else:
        fix = (
            f": include the country code (e.g. {_EXAMPLE}), or set TWILIO_DEFAULT_REGION "
            "to read numbers written without one."
        )
    return ServiceError(shown + fix, error_code="invalid_number")


def check_country(number: str) -> None:
    """A ``ServiceError`` ``country_not_allowed`` if ``number`` (E.164) is outside the allow-list.

    The allow-list is ``TWILIO_ALLOWED_COUNTRIES`` (region codes); unset, every
    region is allowed and nothing is parsed. Against SMS pumping: bots that
    request codes to premium numbers abroad, paid for by the sender.
    """
    allowed = conf.TWILIO_ALLOWED_COUNTRIES
    if allowed is None:
        return
    region = _region(number)
    if region not in allowed:
        where = region or "this number's region"
        raise ServiceError(
            f"Messages to numbers in {where} are not allowed "
            f"(TWILIO_ALLOWED_COUNTRIES: {', '.join(allowed) or 'none'}).",
            error_code="country_not_allowed",
        )


@functools.lru_cache(maxsize=4096)
def _region(number: str) -> str | None:
    phonenumbers = import_sdk("phonenumbers", "twilio")
    try:
        region: str | None = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return region
