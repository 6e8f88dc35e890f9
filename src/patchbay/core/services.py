"""What the admin and the management API do to ExternalService rows, written once.

Switching services on and off, testing their connection, changing their
write-only credentials and saving a row whose credentials no key decrypts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from patchbay.core.config import forget_service_rows
from patchbay.core.registry import get_client_class
from patchbay.exceptions import DecryptionError
from patchbay.models import ExternalService

if TYPE_CHECKING:
    from patchbay.models import HealthCheck


def set_enabled(services: Iterable[ExternalService], *, enabled: bool) -> list[ExternalService]:
    """Switch ``services`` on or off; the ones that changed, with ``enabled`` updated."""
    changing = [service for service in services if service.enabled != enabled]
    ExternalService.objects.filter(pk__in=[service.pk for service in changing]).update(
        enabled=enabled
    )
    # update() sends no post_save, which is what normally drops the cached rows.
    forget_service_rows()
    for service in changing:
        service.enabled = enabled
    return changing


def probe_service(service: ExternalService, *, user: Any = None) -> HealthCheck | None:
    """Probe ``service`` and store a HealthCheck; None if no client is installed for it.

    The probe's call is recorded as made by ``user`` (see :func:`acting_user
    <patchbay.core.recording.acting_user>`).
    """
    client_class = get_client_class(service.provider)
    if client_class is None:
        return None
    # Imported here: health checks only run on demand.
    from patchbay.core.recording import acting_user
    from patchbay.status import ServiceCheck

    with acting_user(user):
        return ServiceCheck(client_class, service.tenant_key).run()


def load_credentials(service: ExternalService) -> None:
    """Read ``service``'s (possibly deferred) credentials, or mark them unreadable.

    A row no configured key decrypts (``patchbay.E024``) gets empty
    credentials and ``credentials_unreadable``, so that it can still be shown
    and its credentials entered again.
    """
    try:
        service.credentials  # noqa: B018  (loads the deferred column)
    except DecryptionError:
        service.credentials = {}
        service.credentials_unreadable = True


def updated_credentials(
    credentials: Mapping[str, Any], *, new: Mapping[str, Any], cleared: Collection[str]
) -> dict[str, Any]:
    """``credentials`` with the ``new`` values set and the ``cleared`` names removed."""
    updated = {name: value for name, value in credentials.items() if name not in cleared}
    updated.update(new)
    return updated


def save_service(service: ExternalService) -> None:
    """Save ``service``; unreadable credentials nobody replaced stay as they are stored."""
    if service.credentials_unreadable and not service.credentials:
        # Nothing entered: the stored ciphertext stays, readable once its key is back.
        kept = [
            field.name
            for field in service._meta.concrete_fields
            if not field.primary_key and field.name != "credentials"
        ]
        service.save(update_fields=kept)
    else:
        service.save()
        service.credentials_unreadable = False
