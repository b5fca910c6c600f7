"""The beat scheduler: django-celery-beat's, leaving out the jobs of products that are off.

Periodic jobs copied into django-celery-beat's tables stay there when their product is
turned off (`TESSERA_PRODUCTS`). Their task would reach workers that no longer know it, so
this scheduler does not send them; the rows are left as they are (paused or not, as the
admin set them) and run again when the product is turned back on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q
from django_celery_beat.schedulers import DatabaseScheduler


def disabled_tasks_query() -> Q | None:
    prefixes = getattr(settings, "DISABLED_TASK_PREFIXES", ())
    query: Q | None = None
    for prefix in prefixes:
        clause = Q(task__startswith=prefix)
        query = clause if query is None else query | clause
    return query


class TesseraScheduler(DatabaseScheduler):
    def enabled_models_qs(self) -> Any:
        queryset = super().enabled_models_qs()
        query = disabled_tasks_query()
        return queryset if query is None else queryset.exclude(query)
