"""The management JSON API: services, logs and webhook events (see :ref:`management-api`).

Plain Django views answering JSON, mounted by :mod:`patchbay.urls` at ``api/``;
their OpenAPI 3.1 document is :data:`patchbay.api.schema.OPENAPI`.
"""
