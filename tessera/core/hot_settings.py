"""Settings read on every request of the edge's hot path, without `django.conf.settings`'
per-attribute cost (a LazyObject lookup: about 0.8 µs, a measurable share of a reply the
edge makes in 25 µs). Values are read once and forgotten when `override_settings` (or
anything else that sends `setting_changed`) changes them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_values: dict[str, Any] = {}
_MISSING = object()


def hot_setting(name: str) -> Any:
    value = _values.get(name, _MISSING)
    if value is _MISSING:
        value = _values[name] = getattr(settings, name)
    return value


@receiver(setting_changed)
def _forget(setting: str, **_kwargs: Any) -> None:
    _values.pop(setting, None)
