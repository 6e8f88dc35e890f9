"""django-patchbay: Stripe, Twilio, Loops and S3/R2 for Django, on one shared core."""

from __future__ import annotations

__version__ = "0.1.0"
