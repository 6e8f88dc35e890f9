from __future__ import annotations

from django.urls import path

from files import views

app_name = "files"

urlpatterns = [
    path("", views.upload_page, name="upload"),
    path("list/", views.upload_list, name="list"),
    path("<int:upload_id>/", views.open_file, name="open"),
    path("<int:upload_id>/delete/", views.delete_file, name="delete"),
]
