"""The handlers the worker processes of tests/test_webhook_workers.py run."""

from __future__ import annotations
