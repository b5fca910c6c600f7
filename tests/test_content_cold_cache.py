"""The cold website document is built once, even when the lock changes hands in the gap
between a waiting reader's last look and its taking the lock (found by the PostgreSQL +
Redis lane: on Redis that gap is a round trip wide)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tessera.content import services

pytestmark = pytest.mark.django_db


def test_a_reader_taking_the_lock_after_another_built_does_not_build_again(
    monkeypatch: Any,
) -> None:
    built = services._build()
    builds: list[int] = []

    def counted() -> services.Built:
        builds.append(1)
        return built

    real_add = cache.add

    def add_once_another_has_stored(key: str, *args: Any, **kwargs: Any) -> bool:
        # Another process stored the document and let go of the lock just before this add.
        services._store(built)
        return bool(real_add(key, *args, **kwargs))

    cache.clear()
    monkeypatch.setattr(services, "_build", counted)
    monkeypatch.setattr(cache, "add", add_once_another_has_stored)

    key = services.doc_key("en")
    entries = services.cached_entries([key])

    assert builds == []
    assert entries[key] == built.entries[key]
    assert cache.get(services.LOCK_KEY) is None
