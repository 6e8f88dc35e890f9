from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from patchbay import crypto
from patchbay.exceptions import ConfigurationError, DecryptionError
from patchbay.models import ExternalService

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SECRET = "sk_live_do-not-leak-9876543210"


def raw_credentials(pk):
    table = connection.ops.quote_name(ExternalService._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_round_trip(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    token = crypto.encrypt("hello")
    assert token != "hello"
    assert crypto.decrypt(token) == "hello"


def test_keys_derived_from_secret_key_and_fallbacks(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = None
    settings.SECRET_KEY = "old-secret-key"
    token = crypto.encrypt("hello")
    settings.SECRET_KEY = "new-secret-key"
    with pytest.raises(DecryptionError):
        crypto.decrypt(token)
    settings.SECRET_KEY_FALLBACKS = ["old-secret-key"]
    assert crypto.decrypt(token) == "hello"


def test_wrong_key_raises_a_clear_error_never_ciphertext(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    token = crypto.encrypt("hello")
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(DecryptionError, match="PATCHBAY_ENCRYPTION_KEYS") as info:
        crypto.decrypt(token)
    assert token not in str(info.value)


def test_garbage_token_raises():
    with pytest.raises(DecryptionError):
        crypto.decrypt("not-a-token")


def test_rotation(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    token = crypto.encrypt("hello")
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    rotated = crypto.rotate(token)
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    assert crypto.decrypt(rotated) == "hello"
    with pytest.raises(DecryptionError):
        crypto.decrypt(token)


def test_invalid_key_is_a_configuration_error(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = ["too-short"]
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        crypto.encrypt("hello")


@pytest.mark.django_db
def test_raw_column_never_contains_the_secret(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    service = ExternalService.objects.create(
        provider="crypto-test", credentials={"api_key": SECRET}
    )
    raw = raw_credentials(service.pk)
    assert SECRET not in raw
    assert "api_key" not in raw
    assert ExternalService.objects.get(pk=service.pk).credentials == {"api_key": SECRET}
    assert SECRET not in repr(service)


@pytest.mark.django_db
def test_reading_with_a_wrong_key_raises(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_A]
    service = ExternalService.objects.create(
        provider="crypto-test", credentials={"api_key": SECRET}
    )
    settings.PATCHBAY_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(DecryptionError):
        ExternalService.objects.get(pk=service.pk)


@pytest.mark.django_db
def test_encrypted_field_cannot_be_filtered_on():
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(ExternalService.objects.filter(credentials__contains="x"))


@pytest.mark.parametrize(
    "key",
    [
        KEY_A,
        KEY_A.encode(),
        "too-short",
        KEY_A[:-1],
        "é" * 44,
        base64.urlsafe_b64encode(b"x" * 31).decode(),
        None,
        12,
    ],
)
def test_key_validation_is_fernets_own(key):
    # validate_keys runs in a system check at every start, so it does Fernet's test
    # without importing cryptography; it must accept exactly what Fernet accepts.
    try:
        Fernet(key)
        fernet_accepts = True
    except (ValueError, TypeError):
        fernet_accepts = False
    assert (crypto.validate_keys([key]) == []) is fernet_accepts
