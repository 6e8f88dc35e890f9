"""Stripe payments and subscriptions: ``client``, ``shortcuts``, webhooks and local state."""
