"""Acme Notify, a fictional push-notification service, integrated on patchbay's core."""
