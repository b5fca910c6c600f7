"""Routes outside /api/ that serve the local store (see views.py)."""

from django.conf import settings
from django.urls import path

from tessera.files import views

_MEDIA_PREFIX = settings.MEDIA_URL.strip("/")

urlpatterns = [
    path(f"{_MEDIA_PREFIX}/<path:key>", views.public_file, name="files-public"),
    path("files/private/<str:token>", views.private_file, name="files-private"),
    path("files/uploads/<str:token>", views.direct_upload, name="files-direct-upload"),
]
