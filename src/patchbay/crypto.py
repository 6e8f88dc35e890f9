"""Encryption at rest for stored credentials.

Built on ``cryptography``'s MultiFernet: the first key encrypts, every key
decrypts, so keys rotate by prepending a new one and running
``manage.py patchbay_rotate_keys``. Without ``PATCHBAY_ENCRYPTION_KEYS`` keys
are derived from ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` with HKDF, so
rotating Django's secret key the documented way keeps old values readable.
"""

from __future__ import annotations

import base64
import functools
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from patchbay.conf import conf
from patchbay.exceptions import ConfigurationError, DecryptionError

if TYPE_CHECKING:
    from typing import Any

    from cryptography.fernet import MultiFernet

_HKDF_INFO = b"django-patchbay credentials v1"


def derive_key(secret: str) -> str:
    """A Fernet key derived from a Django ``SECRET_KEY`` value."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw).decode()


def configured_keys() -> list[str]:
    """The Fernet keys in force, newest first."""
    keys = conf.ENCRYPTION_KEYS
    if keys:
        return keys
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [derive_key(secret) for secret in secrets if secret]


def validate_keys(keys: list[str]) -> list[str]:
    """Problems with ``keys`` as sentences; empty when every key is usable."""
    problems = []
    for index, key in enumerate(keys):
        # Fernet's own test (cryptography.fernet.Fernet.__init__), without importing
        # cryptography: this runs in a system check, at every start of the project.
        try:
            usable = len(base64.urlsafe_b64decode(key)) == 32
        except (ValueError, TypeError):  # binascii.Error is a ValueError
            usable = False
        if not usable:
            problems.append(
                f"PATCHBAY_ENCRYPTION_KEYS[{index}] is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "cryptography.fernet.Fernet.generate_key())."
            )
    return problems


@functools.cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    if not keys:
        raise ConfigurationError("No encryption key: set PATCHBAY_ENCRYPTION_KEYS or SECRET_KEY.")
    problems = validate_keys(list(keys))
    if problems:
        raise ConfigurationError(" ".join(problems))
    return MultiFernet([Fernet(key) for key in keys])


def get_fernet() -> MultiFernet:
    """The MultiFernet for the keys in force."""
    return _multifernet(tuple(configured_keys()))


def encrypt(plaintext: str) -> str:
    """``plaintext`` encrypted with the newest key, as text."""
    return get_fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt ``token`` with any configured key.

    Raises :class:`DecryptionError` rather than returning anything that is not
    the original plaintext.
    """
    from cryptography.fernet import InvalidToken

    try:
        return get_fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise DecryptionError(
            "A stored credential could not be decrypted with any key in "
            "PATCHBAY_ENCRYPTION_KEYS (or derived from SECRET_KEY / SECRET_KEY_FALLBACKS). "
            "Was the key that encrypted it removed before running patchbay_rotate_keys?"
        ) from exc


def rotate(token: str) -> str:
    """``token`` re-encrypted under the newest key."""
    from cryptography.fernet import InvalidToken

    try:
        return get_fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored credential could not be decrypted for rotation.") from exc


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in {"PATCHBAY_ENCRYPTION_KEYS", "SECRET_KEY", "SECRET_KEY_FALLBACKS"}:
        _multifernet.cache_clear()
