from __future__ import annotations

from typing import Any

from ninja import Router


class ApiRouter(Router):
    """A Ninja router that renders schemas by their camelCase aliases by default."""

    def __init__(self, *, by_alias: bool | None = True, **kwargs: Any) -> None:
        super().__init__(by_alias=by_alias, **kwargs)
