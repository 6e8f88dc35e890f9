from __future__ import annotations

from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.connect_page, name="connect"),
]
