"""Twilio SMS and WhatsApp with delivery tracking, inbound messages and phone verification."""
