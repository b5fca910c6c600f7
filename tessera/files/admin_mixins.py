"""What another app's admin needs to show images from the file store (a public module of
`tessera.files`, as `services` and `selectors` are; `admin.py` itself is the app's own)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tessera.files.storage import file_store


class StoreImagesAdminMixin:
    """For admin pages that show images from the file store. The admin's
    Content-Security-Policy allows images from this site only; with S3 the previews come from
    the bucket or the CDN, so those pages allow that origin too."""

    def _allow_store_images(self, response: HttpResponse) -> HttpResponse:
        origin = file_store().image_origin()
        if origin:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
                "img-src 'self'", f"img-src 'self' {origin}"
            )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        return self._allow_store_images(
            super().changelist_view(request, extra_context)  # type: ignore[misc]
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        return self._allow_store_images(
            super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        )
