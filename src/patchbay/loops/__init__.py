"""Loops transactional email, events and contacts; magic-link login; email delivery events."""
