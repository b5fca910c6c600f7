from django.urls import path

from bench.baselines.drf_app.views import PingView

urlpatterns = [path("api/ping", PingView.as_view())]
