"""Argon2id with the cost chosen in docs/decisions/0008-authentication.md, read from settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TesseraArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher with its three costs taken from `ARGON2_*` settings.

    Its algorithm name is Django's own (`argon2`), so hashes stay readable by Django's hasher
    and a change of cost only makes `must_update` upgrade a hash at the next login.
    """

    def __init__(self) -> None:
        super().__init__()
        self.time_cost = int(settings.ARGON2_TIME_COST)
        self.memory_cost = int(settings.ARGON2_MEMORY_COST_KIB)
        self.parallelism = int(settings.ARGON2_PARALLELISM)
