from __future__ import annotations

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.send, name="send"),
    path("sms/<int:sms_id>/", views.sms_detail, name="sms"),
    path("sms/<int:sms_id>/status/", views.sms_status, name="sms-status"),
    path("verify/", views.verify_phone, name="verify"),
    path("outbox/", views.outbox_panel, name="outbox"),
]
