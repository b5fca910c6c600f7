from django.urls import path

from bench.baselines.django_plain.views import ping

urlpatterns = [path("api/ping", ping)]
