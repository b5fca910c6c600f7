from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image

UPLOAD_URL = "/api/files"
BOUNDARY = "tessera-test-boundary-7d3f"


def multipart(
    filename: str | None, data: bytes, *, field: str = "file", part_type: str = "image/png"
) -> tuple[bytes, str]:
    """A multipart body built by hand, so file names reach the server exactly as given."""
    disposition = f'form-data; name="{field}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    body = (
        (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {part_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def upload(
    client: Any,
    data: bytes,
    *,
    filename: str | None = "photo.jpg",
    purpose: str = "avatar",
    visibility: str | None = None,
    **extra: Any,
) -> Any:
    body, content_type = multipart(filename, data)
    query = f"?purpose={purpose}" + (f"&visibility={visibility}" if visibility else "")
    return client.generic("POST", UPLOAD_URL + query, body, content_type=content_type, **extra)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["status"] == "error", body
    return dict(body["error"])


def data_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["status"] == "success", body
    return dict(body["data"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def path_of(url: str) -> str:
    """The path of an absolute URL the API returned for the test server."""
    return url.removeprefix("http://testserver")
