"""What the example shows only on a developer's machine."""

from __future__ import annotations

from django.conf import settings

from patchbay.core.simulation import should_simulate


def dev_outboxes_shown() -> bool:
    """Whether the dev outboxes exist: while simulating with ``DEBUG`` on, never deployed.

    They show anyone what simulation "sent", sign-in links and verification
    codes included: on a site others can reach, reading the admin's sign-in
    link there would sign them in as the admin.
    """
    return bool(settings.DEBUG) and should_simulate()
