"""The account export's contributors: each app adds what it holds about a person.

`POST /api/auth/me/export` (tessera.accounts) returns the account, profile, linked accounts
and sessions, then one section per contributor registered here, named by the contributor.
The registry lives in core because every app may import core, while accounts, files and
notifications are platform apps that must not import the apps that hold the data (capsules,
wallet, events) nor, for files and notifications, accounts itself.

Adding a section (the wallet and events apps do this the same way):

1. Write `tessera/<app>/export.py` with one function::

       def account_export(*, user: Any) -> dict[str, Any]:
           '''Everything <app> holds about `user` that they own or received.'''
           return {"deposits": [...], "withdrawals": [...]}

   It returns JSON-ready data only (strings, numbers, booleans, lists, dicts; times as
   ISO-8601 strings; camelCase keys, as the API writes them: dumping the app's own `…Out`
   schema with `model_dump(mode="json", by_alias=True)` gives exactly that). Show what
   the person may see through the API and no more: no password or code hashes, no tokens,
   nothing about other people beyond what the API shows them.
2. Register it in the app's `AppConfig.ready()`::

       def ready(self) -> None:
           from tessera.core.exports import export_contributor_register
           from tessera.wallet.export import account_export

           export_contributor_register("wallet", account_export)

The section name is the key in the export (`"wallet": {...}`); the accounts module's own keys
are reserved. A test in tessera/accounts/tests/test_export.py checks that every registered
section comes out JSON-ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ExportContributor = Callable[..., Any]

# The keys tessera.accounts writes itself.
RESERVED_SECTIONS = frozenset({"exportedAt", "account", "profile", "linkedAccounts", "sessions"})

_contributors: dict[str, ExportContributor] = {}


def export_contributor_register(section: str, contributor: ExportContributor) -> None:
    """Add `contributor(user=...)` as the export's `section`. Registering the same function
    again is harmless (apps may be set up twice in tests); another one under a taken name is
    an error."""
    if section in RESERVED_SECTIONS:
        raise ValueError(f"The export section {section!r} is written by tessera.accounts.")
    current = _contributors.get(section)
    if current is not None and current is not contributor:
        raise ValueError(f"The export section {section!r} is already registered by {current!r}.")
    _contributors[section] = contributor


def export_contributors() -> dict[str, ExportContributor]:
    """The registered sections and their contributors, by section name."""
    return dict(sorted(_contributors.items()))


def export_sections(*, user: Any) -> dict[str, Any]:
    """Every registered section for `user`, in section-name order."""
    return {
        section: contributor(user=user) for section, contributor in export_contributors().items()
    }
