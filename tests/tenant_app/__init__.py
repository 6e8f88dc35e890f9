"""A project's tenant model for the tenancy tests (``tenant_app.Organization``).

Installed in every test run; it means nothing until a test sets
``PATCHBAY_TENANT_MODEL = "tenant_app.Organization"``.
"""
