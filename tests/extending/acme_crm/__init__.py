"""Acme CRM, a fictional CRM whose API takes OAuth2 tokens, each user connecting their own."""
