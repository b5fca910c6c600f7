"""A test hasher that counts how often a password is hashed (for the no-enumeration tests):
MD5's `verify` hashes through `encode`, so every hash computed is one entry."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingMD5PasswordHasher(MD5PasswordHasher):
    calls: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str) -> str:
        self.calls.append("encode")
        return super().encode(password, salt)

    def harden_runtime(self, password: str, encoded: Any) -> None:
        return None
