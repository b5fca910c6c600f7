"""Print a simplejwt access token for the benchmark user (run under the DRF app's settings)."""

from __future__ import annotations

import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
django.setup()

from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from tessera.accounts.models import User  # noqa: E402

print(str(AccessToken.for_user(User.objects.get(email=sys.argv[1]))))
