from __future__ import annotations

import pytest
from django.urls import reverse

from patchbay.models import StripeCustomer, StripeSubscription
from tests.conftest import assert_constant_queries

pytestmark = pytest.mark.django_db


def rows(django_user_model, start, stop):
    for i in range(start, stop):
        user = django_user_model.objects.create_user(f"user{i}", f"u{i}@example.com", "pw")
        StripeCustomer.objects.create(user=user, customer_id=f"cus_{i}", email=user.email)
        StripeSubscription.objects.create(
            subscription_id=f"sub_{i}",
            customer_id=f"cus_{i}",
            user=user,
            status="active" if i % 2 else "past_due",
            price_id="price_pro",
        )


@pytest.mark.parametrize("model", ["stripecustomer", "stripesubscription"])
def test_changelists_render_with_a_constant_number_of_queries(
    admin_client, django_user_model, model
):
    url = reverse(f"admin:patchbay_{model}_changelist")
    assert_constant_queries(
        admin_client, url, lambda start, stop: rows(django_user_model, start, stop)
    )


def test_stripe_state_is_read_only(admin_client, django_user_model):
    rows(django_user_model, 0, 1)
    assert admin_client.get(reverse("admin:patchbay_stripesubscription_add")).status_code == 403
    sub = StripeSubscription.objects.get()
    page = admin_client.get(reverse("admin:patchbay_stripesubscription_change", args=[sub.pk]))
    assert page.status_code == 200
    assert b"sub_0" in page.content
    assert b'name="status"' not in page.content
