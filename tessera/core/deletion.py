"""Checks an app runs before a person deletes their account, each able to refuse.

`DELETE /api/auth/me` (tessera.accounts) erases the person. An app that holds something the
person must settle first (money in a wallet, a payout on its way) registers a check here; a
check refuses by raising an `ApplicationError`, which is the reply, and nothing is erased.
The registry lives in core because accounts, a platform app, must not import the product
apps (see tessera/core/exports.py for the same arrangement of the account export).

Register in the app's `AppConfig.ready()`::

    from tessera.core.deletion import deletion_check_register
    from tessera.wallet.services import account_deletion_check

    deletion_check_register("wallet", account_deletion_check)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DeletionCheck = Callable[..., None]

_checks: dict[str, DeletionCheck] = {}


def deletion_check_register(name: str, check: DeletionCheck) -> None:
    """Add `check(user=...)` under `name`; the same function again is harmless."""
    current = _checks.get(name)
    if current is not None and current is not check:
        raise ValueError(f"The deletion check {name!r} is already registered by {current!r}.")
    _checks[name] = check


def deletion_checks_run(*, user: Any) -> None:
    """Run every registered check; the first refusal is raised."""
    for check in _checks.values():
        check(user=user)
