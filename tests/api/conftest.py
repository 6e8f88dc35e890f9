from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from patchbay.models import APIToken

API = "/integrations/api"


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("ops", password="pw", is_staff=True)


@pytest.fixture
def token(admin_user):
    """A token of a superuser: every permission."""
    _row, value = APIToken.objects.issue(admin_user, "tests")
    return value


@pytest.fixture
def api(client, token):
    """The test client, authenticated by the superuser's token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client
