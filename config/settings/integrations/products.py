"""Products by setting: `TESSERA_PRODUCTS=content,capsules,wallet,events` (default: all).

The platform (core, accounts, audit, notifications, tasks, files, payments) always runs. Each
product is one entry in `PRODUCT_REGISTRY`: its Django apps and the Ninja routers
`config/api.py` mounts for it. A product that is off is not installed, so its models, admin,
migrations, demo data, signals and tasks are absent; its routes and OpenAPI operations are
not mounted; its periodic jobs and edge routes are dropped (`product_filtered`, applied at the
end of `base.py`); and the beat scheduler pauses its rows already in the database
(`tessera.core.beat`). See docs/decisions/0020-products-by-setting.md.

A new product plugs in with one entry here (and nothing in `LOCAL_APPS`), e.g.
    "wallet": product(["tessera.wallet"], ("", "tessera.wallet.api:router", "wallet")),
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env

# (mount prefix under /api, "module:attribute" of the Ninja router, OpenAPI tag)
RouterEntry = tuple[str, str, str]


def product(apps: list[str], *routers: RouterEntry) -> dict[str, Any]:
    return {"apps": apps, "routers": list(routers)}


PRODUCT_REGISTRY: dict[str, dict[str, Any]] = {
    "content": product(["tessera.content"], ("", "tessera.content.api:router", "content")),
    "capsules": product(
        ["tessera.capsules"],
        ("/capsules", "tessera.capsules.api:capsules_router", "capsules"),
        ("/drafts", "tessera.capsules.api:drafts_router", "capsules"),
        ("/recipients", "tessera.capsules.api:recipients_router", "capsules"),
    ),
    "wallet": product(
        ["tessera.wallet"],
        ("/deposits", "tessera.wallet.api:deposits_router", "wallet"),
        ("/withdrawals", "tessera.wallet.api:withdrawals_router", "wallet"),
        ("/balance", "tessera.wallet.api:balance_router", "wallet"),
        ("/transactions", "tessera.wallet.api:transactions_router", "wallet"),
    ),
    "events": product(
        ["tessera.events"],
        ("/events", "tessera.events.api:events_router", "events"),
        ("/venues", "tessera.events.api:venues_router", "events"),
    ),
}


def _enabled_products(raw: str | None) -> list[str]:
    """Unset or `all`: every registered product; empty or `none`: none; else the names."""
    if raw is None or raw.strip().lower() == "all":
        return list(PRODUCT_REGISTRY)
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = [name for name in names if name not in PRODUCT_REGISTRY]
    if unknown:
        raise ImproperlyConfigured(
            f"TESSERA_PRODUCTS names unknown product(s) {', '.join(unknown)}; known: "
            f"{', '.join(PRODUCT_REGISTRY)} (or `all`, or `none`)."
        )
    return list(dict.fromkeys(names))


TESSERA_PRODUCTS = _enabled_products(env.str("TESSERA_PRODUCTS", default=None))
PRODUCT_APPS = [app for name in TESSERA_PRODUCTS for app in PRODUCT_REGISTRY[name]["apps"]]
PRODUCT_ROUTERS: list[RouterEntry] = [
    entry for name in TESSERA_PRODUCTS for entry in PRODUCT_REGISTRY[name]["routers"]
]
# App labels (the last part of each module path) of registered products that are off: their
# task names start with "<label>." and their edge handlers live in "tessera.<label>.".
DISABLED_PRODUCT_APPS = [
    app
    for name, entry in PRODUCT_REGISTRY.items()
    if name not in TESSERA_PRODUCTS
    for app in entry["apps"]
]
DISABLED_TASK_PREFIXES = tuple(f"{app.rsplit('.', 1)[-1]}." for app in DISABLED_PRODUCT_APPS)


def product_filtered(
    beat_schedule: dict[str, dict[str, Any]], edge_routes: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The periodic jobs and edge routes that belong to the platform or an enabled product."""
    schedule = {
        name: entry
        for name, entry in beat_schedule.items()
        if not str(entry["task"]).startswith(DISABLED_TASK_PREFIXES)
    }
    routes = {
        prefix: handler
        for prefix, handler in edge_routes.items()
        if not any(handler.startswith(f"{app}.") for app in DISABLED_PRODUCT_APPS)
    }
    return schedule, routes
