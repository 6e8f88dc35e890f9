from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.pricing, name="pricing"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("success/", views.success, name="success"),
    path("checkout-cancelled/", views.checkout_cancelled, name="checkout_cancelled"),
    path("portal/", views.portal, name="portal"),
    path("cancel/", views.cancel, name="cancel"),
]
