"""Types come from the bytes; names are checked, never trusted."""

from __future__ import annotations

import pytest

from tessera.files.errors import InvalidFileNameError
from tessera.files.names import file_name_clean
from tessera.files.sniffing import polyglot_marker, sniff
from tessera.files.tests import images


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (images.jpeg_bytes(), "image/jpeg"),
        (images.png_bytes(), "image/png"),
        (images.webp_bytes(), "image/webp"),
        (images.mp4_bytes(), "video/mp4"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 64, "audio/mp4"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
        (images.SVG_WITH_SCRIPT, "image/svg+xml"),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (images.HTML_PAGE, "text/html"),
        (b"<!-- x --><html></html>", "text/html"),
    ],
)
def test_sniff_reads_the_type_from_the_bytes(data: bytes, expected: str) -> None:
    found = sniff(data)

    assert found is not None
    assert found.content_type == expected


@pytest.mark.parametrize("data", [b"", images.SHELL_SCRIPT, b"hello world", b"\x00" * 100])
def test_sniff_knows_nothing_about_text_and_noise(data: bytes) -> None:
    assert sniff(data) is None


def test_a_plain_photo_carries_no_polyglot_marker() -> None:
    photo = images.jpeg_bytes(size=(1200, 900), gps=True, comment=b"Table Mountain")

    assert polyglot_marker(photo[:65536], photo[-65536:]) is None


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Holiday.JPG", "Holiday.JPG"),
        ("  spaced name.png  ", "spaced name.png"),
        (".hidden.png", "hidden.png"),
        ("Cafe\u0301.png", "Caf\u00e9.png"),
        ("ملف.png", "ملف.png"),
        ("...", "upload"),
        (None, "upload"),
    ],
)
def test_file_names_are_normalised(raw: str | None, cleaned: str) -> None:
    assert file_name_clean(raw) == cleaned


@pytest.mark.parametrize(
    "raw", ["a/b.png", "a\\b.png", "tab\there.png", "zero\u200bwidth.png", "x" * 256, ".."]
)
def test_bad_file_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidFileNameError):
        file_name_clean(raw)
