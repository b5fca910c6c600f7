"""The files section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from tessera.files.selectors import file_list_for_owner, file_out


def account_export(*, user: Any) -> list[dict[str, Any]]:
    """Every file the person uploaded, with its links, as GET /api/files/{id} shows it.
    Links to private files stop working at `urlExpiresAt`; a new export gives new ones."""
    return [
        file_out(stored).model_dump(mode="json", by_alias=True)
        for stored in file_list_for_owner(owner=user)
    ]
