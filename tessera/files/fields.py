"""`StoredFileField`: how another app's model refers to a file.

    from tessera.files.fields import StoredFileField
    from tessera.files.purposes import Purpose

    class Event(BaseModel):
        cover = StoredFileField(purpose=Purpose.EVENT_COVER)

A nullable foreign key to `files.StoredFile` (SET_NULL when the file is deleted, no reverse
accessor). `purpose` limits the choices, so `full_clean()` and admin forms refuse a file of
another purpose. Ownership is checked where the reference is set, in the app's service:

    event.cover = file_get_attachable(owner=user, file_id=cover_id, purpose=Purpose.EVENT_COVER)

and the reply renders it with
`file_ref(event.cover, viewer=request.auth, client=client_context(request))`.
A file that no row refers to any more is removed by the daily cleanup once its purpose's
`unattached_ttl_hours` has passed (see `purposes.py`).
"""

from __future__ import annotations

from typing import Any

from django.db import models


class StoredFileField(models.ForeignKey):
    def __init__(
        self,
        to: Any = "files.StoredFile",
        on_delete: Any = models.SET_NULL,
        *,
        purpose: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.purpose = str(purpose) if purpose is not None else None
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("related_name", "+")
        if self.purpose is not None:
            kwargs["limit_choices_to"] = {"purpose": self.purpose}
        super().__init__(to, on_delete, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("limit_choices_to", None)
        if self.purpose is not None:
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs
