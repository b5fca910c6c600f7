"""Read replicas: `DATABASE_REPLICA_URLS=postgresql://…,postgresql://…` adds one database
alias per replica (`replica1`, `replica2`, …) and the router that reads from them
(tessera/core/dbrouter.py, docs/decisions/0019-read-replicas.md). Unset: one database, no
router, nothing changes."""

from __future__ import annotations

import copy

from config.settings.base import DATABASES
from config.settings.env import env

DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
# Read your writes: after a request by a user writes, that user's reads stay on the primary
# for this long (kept in the cache, so every process honours it). Set it above the worst
# replication lag you alert on.
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=5)
# Security state is always read from the primary: a session revoked a moment ago must not
# look alive on a lagging replica.
DATABASE_REPLICA_PRIMARY_APPS = env.list(
    "DATABASE_REPLICA_PRIMARY_APPS",
    default=["accounts", "sessions", "admin", "auth", "django_cache"],
)

DATABASE_REPLICAS: list[str] = []
for _index, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _alias = f"replica{_index}"
    _config = env.db_url_config(_url)
    for _key in ("OPTIONS", "CONN_MAX_AGE", "ATOMIC_REQUESTS"):
        if _key in DATABASES["default"]:
            _config[_key] = copy.deepcopy(DATABASES["default"][_key])
    # The test runner creates no database for a replica: it reads the primary's.
    _config["TEST"] = {"MIRROR": "default"}
    DATABASES[_alias] = _config
    DATABASE_REPLICAS.append(_alias)

DATABASE_ROUTERS = ["tessera.core.dbrouter.ReplicaRouter"] if DATABASE_REPLICAS else []
