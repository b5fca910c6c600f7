"""The project's URLs plus the test-only API at /api/_test/ (`@pytest.mark.urls`)."""

from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns
from tessera.core.tests.testapi import test_api

urlpatterns = [path("api/_test/", test_api.urls), *project_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
