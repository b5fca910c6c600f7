from django.urls import path

from bench.auth.drf_me.views import MeView

urlpatterns = [path("api/auth/me", MeView.as_view())]
