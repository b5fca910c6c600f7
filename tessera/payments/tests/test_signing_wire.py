"""Revio's signature scheme and wire format, as the sandbox and the Revio adapter share them."""

from __future__ import annotations

import base64

import orjson
import pytest

from tessera.payments.providers import signing, wire
from tessera.payments.tests.helpers import payout_body, purchase_body, refund_body

NAMES = wire.event_names(
    {
        "paid": "purchase.paid",
        "failed": "purchase.payment_failure",
        "cancelled": "purchase.cancelled",
        "refunded": "payment.refunded",
        "payout_completed": "payout.success;payout.done",
        "payout_failed": "payout.failed",
    }
)


@pytest.fixture(scope="module")
def key() -> signing.rsa.RSAPrivateKey:
    return signing.generate_private_key()


def test_a_signature_verifies_only_its_own_body(key: signing.rsa.RSAPrivateKey) -> None:
    body = purchase_body(purchase_id="p1")
    signature = signing.sign(body, key)
    public = signing.public_key_from_pem(signing.public_pem(key))

    signing.verify(body, signature, public)
    with pytest.raises(signing.SignatureError) as other_body:
        signing.verify(body.replace(b"15000", b"15001"), signature, public)
    assert other_body.value.verdict == "invalid"
    with pytest.raises(signing.SignatureError) as missing:
        signing.verify(body, None, public)
    assert missing.value.verdict == "missing"
    with pytest.raises(signing.SignatureError) as malformed:
        signing.verify(body, "not base64 at all!", public)
    assert malformed.value.verdict == "malformed"
    other_key = signing.generate_private_key()
    with pytest.raises(signing.SignatureError) as forged:
        signing.verify(body, signing.sign(body, other_key), public)
    assert forged.value.verdict == "invalid"


def test_the_signature_is_pkcs1v15_sha256_over_the_raw_body(
    key: signing.rsa.RSAPrivateKey,
) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = b'{"event_type":"purchase.paid","id":"x"}'
    raw = base64.b64decode(signing.sign(body, key))
    key.public_key().verify(raw, body, padding.PKCS1v15(), hashes.SHA256())  # no exception
    assert len(raw) == 256  # a 2048-bit key


def test_purchase_events_parse_with_amount_reference_and_an_event_id() -> None:
    event = wire.parse_webhook(
        purchase_body(purchase_id="pur-1", reference="ref-9", total=2500, updated_on=1_800_000_000),
        names=NAMES,
    )
    assert (event.kind, event.status, event.object_id, event.reference) == (
        "purchase",
        "paid",
        "pur-1",
        "ref-9",
    )
    assert (event.amount_minor, event.currency) == (2500, "ZAR")
    assert event.event_id == "purchase.paid:pur-1:1800000000"
    failed = wire.parse_webhook(
        purchase_body(purchase_id="pur-1", event_type="purchase.payment_failure", status="error"),
        names=NAMES,
    )
    assert (failed.kind, failed.status) == ("purchase", "failed")


def test_refunds_payouts_and_other_events() -> None:
    refund = wire.parse_webhook(
        refund_body(refund_id="r1", purchase_id="pur-1", amount=500), names=NAMES
    )
    assert (refund.kind, refund.object_id, refund.refund_id, refund.amount_minor) == (
        "refund",
        "pur-1",
        "r1",
        500,
    )
    done = wire.parse_webhook(payout_body(payout_id="po-1", event_type="payout.done"), names=NAMES)
    assert (done.kind, done.status, done.object_id) == ("payout", "completed", "po-1")
    other = wire.parse_webhook(
        purchase_body(purchase_id="pur-1", event_type="purchase.created", status="created"),
        names=NAMES,
    )
    assert other.kind == "other"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        orjson.dumps({"id": "x", "updated_on": 1}),  # no event_type
        orjson.dumps({"event_type": "purchase.paid", "updated_on": 1}),  # no id
        orjson.dumps({"event_type": "purchase.paid", "id": "x"}),  # no time
        orjson.dumps(
            {"event_type": "payment.refunded", "id": "r", "updated_on": 1_800_000_000}
        ),  # a refund of nothing
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        wire.parse_webhook(body, names=NAMES)


def test_status_queries_map_the_gateways_words() -> None:
    assert wire.purchase_status_event({"id": "p", "status": "paid"}).status == "paid"
    assert wire.purchase_status_event({"id": "p", "status": "overdue"}).status == "expired"
    assert wire.purchase_status_event({"id": "p", "status": "viewed"}).status == "pending"
    assert wire.payout_status_event({"id": "o", "status": "success"}).status == "completed"
    assert wire.payout_status_event({"id": "o", "status": "rejected"}).status == "failed"
    assert wire.payout_status_event({"id": "o", "status": "queued"}).status == "processing"


def test_the_key_file_is_made_once_and_kept(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "key.pem"
    first = signing.key_file_load_or_create(path)
    assert signing.key_file_load_or_create(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "PRIVATE KEY" in first
