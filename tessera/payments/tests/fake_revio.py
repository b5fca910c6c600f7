"""A fake Revio on 127.0.0.1 speaking Revio's formats, for the adapter's tests: purchases
(create, read, cancel, refund) and payouts (create, read), Bearer auth, Idempotency-Key
honoured, webhooks signed with an RSA key made here. Every request is recorded; `fail_next`
makes the next requests answer an error, `stall_next` makes one answer only after a delay
(the work done, the answer lost to the client's timeout)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from tessera.payments.providers import signing

API_KEY = "test-revio-key"
BRAND_ID = "brand-123"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class FakeRevio:
    base_url: str = ""
    key: Any = field(default_factory=signing.generate_private_key)
    purchases: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    by_idempotency: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)
    stall_next: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _clock: Iterator[int] = field(default_factory=lambda: itertools.count(int(time.time())))

    @property
    def public_pem(self) -> str:
        return signing.public_pem(self.key)

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, str]:
        body = orjson.dumps(payload)
        return body, signing.sign(body, self.key)

    def webhook(self, event_type: str, obj: dict[str, Any]) -> tuple[bytes, str]:
        return self.signed({"event_type": event_type, **obj})

    def tick(self) -> int:
        return next(self._clock)

    # The gateway's side of a person paying (or not) on the checkout page.
    def mark(self, purchase_id: Any, status: str) -> dict[str, Any]:
        purchase = self.purchases[str(purchase_id)]
        purchase["status"] = status
        purchase["updated_on"] = self.tick()
        return purchase

    def handle(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, Any]:
        if headers.get("authorization") != f"Bearer {API_KEY}":
            return 401, {"error": "unauthorised"}
        key = headers.get("idempotency-key")
        if method == "POST" and key and key in self.by_idempotency:
            return self.by_idempotency[key]
        status, reply = self._route(method, path, data)
        if method == "POST" and key and status < 500:
            self.by_idempotency[key] = (status, reply)
        return status, reply

    def _route(self, method: str, path: str, data: Any) -> tuple[int, Any]:
        parts = [part for part in path.split("/") if part][2:]  # drop api/v1
        if method == "POST" and parts == ["purchases"]:
            if not data.get("purchase", {}).get("products"):
                return 400, {"purchase": ["products are required"]}
            purchase_id = str(uuid.uuid4())
            now = self.tick()
            total = sum(product["price"] for product in data["purchase"]["products"])
            self.purchases[purchase_id] = {
                "id": purchase_id,
                "type": "purchase",
                "status": "created",
                "brand_id": data["brand_id"],
                "reference": data["reference"],
                "client": data.get("client", {}),
                "purchase": {"currency": data["purchase"]["currency"], "total": total},
                "checkout_url": f"https://gate.example/p/{purchase_id}/",
                "success_callback": data.get("success_callback"),
                "due": data.get("due"),
                "refunded": 0,
                "created_on": now,
                "updated_on": now,
            }
            return 201, self.purchases[purchase_id]
        if parts[:1] == ["purchases"] and len(parts) >= 2:
            purchase = self.purchases.get(parts[1])
            if purchase is None:
                return 404, {"detail": "not found"}
            if method == "GET" and len(parts) == 2:
                return 200, purchase
            if method == "POST" and parts[2:] == ["cancel"]:
                if purchase["status"] not in ("created", "viewed"):
                    return 400, {"detail": "cannot cancel"}
                return 200, self.mark(purchase["id"], "cancelled")
            if method == "POST" and parts[2:] == ["refund"]:
                amount = data.get("amount", purchase["purchase"]["total"])
                if purchase["status"] not in ("paid", "partially_refunded"):
                    return 400, {"detail": "not paid"}
                purchase["refunded"] += amount
                self.mark(
                    purchase["id"],
                    "refunded"
                    if purchase["refunded"] == purchase["purchase"]["total"]
                    else "partially_refunded",
                )
                refund = {
                    "id": str(uuid.uuid4()),
                    "type": "payment",
                    "payment_type": "refund",
                    "related_to": {"type": "purchase", "id": purchase["id"]},
                    "payment": {"amount": amount, "currency": purchase["purchase"]["currency"]},
                    "created_on": self.tick(),
                }
                refund["updated_on"] = refund["created_on"]
                return 200, refund
        if method == "POST" and parts == ["payouts"]:
            if data["bank_account"]["account_number"].startswith("999"):
                return 422, {"bank_account": ["unknown account"]}
            payout_id = str(uuid.uuid4())
            now = self.tick()
            self.payouts[payout_id] = {
                "id": payout_id,
                "type": "payout",
                "status": "pending",
                "reference": data["reference"],
                "amount": data["amount"],
                "currency": data["currency"],
                "bank_account": data["bank_account"],
                "created_on": now,
                "updated_on": now,
            }
            return 201, self.payouts[payout_id]
        if method == "GET" and parts[:1] == ["payouts"] and len(parts) == 2:
            payout = self.payouts.get(parts[1])
            return (200, payout) if payout else (404, {"detail": "not found"})
        return 404, {"detail": f"no route {method} {path}"}


@contextmanager
def fake_revio() -> Iterator[FakeRevio]:
    state = FakeRevio()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            data = orjson.loads(raw) if raw else {}
            headers = {name.lower(): value for name, value in self.headers.items()}
            with state.lock:
                state.requests.append(Recorded(self.command, self.path, headers, data))
                failing = state.fail_next.pop(0) if state.fail_next else None
                stall = state.stall_next.pop(0) if state.stall_next else 0.0
                status, reply = (
                    (failing, {"detail": "failure"})
                    if failing
                    else state.handle(self.command, self.path, headers, data)
                )
            if stall:
                time.sleep(stall)
            body = orjson.dumps(reply)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
