"""One-time verification codes: drawn from ``secrets``, stored only as a keyed hash."""

from __future__ import annotations

import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

CODE_LENGTH = 6
_LOCAL_CODE = re.compile(rf"[0-9]{{{CODE_LENGTH}}}")
# Twilio Verify services send 4 to 10 digits (6 unless configured otherwise).
_VERIFY_CODE = re.compile(r"[0-9]{4,10}")
_HASH_SALT = "patchbay.twilio.codes.verification"
_SIMULATED_VERIFY_SALT = "patchbay.twilio.codes.simulated-verify"


def generate_code() -> str:
    """A fresh 6-digit code from the operating system's secure random source."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def clean_code(code: object, *, twilio_verify: bool = False) -> str | None:
    """``code`` without spaces or dashes if it has the expected digits, else None."""
    text = re.sub(r"[\s-]", "", str(code or ""))[:32]
    pattern = _VERIFY_CODE if twilio_verify else _LOCAL_CODE
    return text if pattern.fullmatch(text) else None


def hash_code(phone_number: str, code: str) -> str:
    """The value stored for ``code``: HMAC-SHA256 keyed from ``SECRET_KEY``, in hex.

    A bare SHA-256 of a 6-digit code is no protection: trying all 10**6 codes
    against a leaked table takes milliseconds. Keyed with a secret the
    database does not hold, the hash reveals nothing without that key.
    Binding the number in means a hash is only ever valid for its own number.
    (Rotating ``SECRET_KEY`` voids codes in flight; they live minutes.)
    """
    return salted_hmac(_HASH_SALT, f"{phone_number}:{code}", algorithm="sha256").hexdigest()


def code_matches(code_hash: str, phone_number: str, code: str) -> bool:
    """Whether ``code`` is the one ``code_hash`` was made from, in constant time."""
    return bool(code_hash) and hmac.compare_digest(code_hash, hash_code(phone_number, code))


def simulated_verify_code(phone_number: str) -> str:
    """The code a *simulated* Twilio Verify service sends to ``phone_number``.

    Derived from ``SECRET_KEY`` so the simulated start and check agree without
    shared state, and so nobody can guess it should simulation be left on.
    """
    digest = salted_hmac(_SIMULATED_VERIFY_SALT, phone_number, algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_LENGTH:0{CODE_LENGTH}d}"


def code_matches_simulated(phone_number: str, code: str) -> bool:
    """Whether a *simulated* Twilio Verify service would approve ``code``, in constant time."""
    return hmac.compare_digest(simulated_verify_code(phone_number).encode(), code.encode())
