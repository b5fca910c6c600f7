"""Soak the local cluster (scripts/cluster.py) with mixed traffic while killing its parts.

    .venv/bin/python scripts/soak.py                      # 10 minutes (make soak)
    .venv/bin/python scripts/soak.py --duration 60 --kill-every 30 --no-redis-restart

Traffic goes through Nginx (HTTPS) from a pool of client threads, each signed in as its own
user, choosing a scenario by weight on every turn. Scenarios are pluggable (`SCENARIOS`): each
names the API operations it needs, and one whose operations the running API does not have is
skipped with a line saying so (a deployment with some products off, TESSERA_PRODUCTS).

Faults, on a timetable: every `--kill-every` seconds one web process and one worker get
SIGKILL (the whole process group) and are started again; Redis (the cluster's own) is
killed and restarted once, half-way. Recovery time is from the kill until the restarted
process serves again (web: /health/ answers; worker: it logs "ready"; Redis: /health/ready
through Nginx answers 200).

Afterwards it waits (`--drain`) for the work the traffic caused, then counts from the
database: tracked tasks sent (the upload replies' task ids) against tasks finished (their
TaskRecord rows), duplicated notifications and deliveries for the capsules that became ready,
files left unprocessed. Results: bench/results/soak-<time>.json and .md, and soak-latest.md.
The wallet's paid deposits and withdrawals are counted too (each deposit credited once, each
withdrawal settled by its payout webhook; a soak user's balance equals its completed deposits
less its withdrawals, and its ledger entries), the events' paid tickets (each valid once its
checkout was paid) and door scans (each ticket in once, however often the scan was retried).
The exit code is 1 when a task, a credit, a payout or a paid ticket was lost, or a
notification, a credit or a check-in doubled.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import DOMAIN, ROOT, Cluster, ClusterError, install_signal_handlers, wait_for

RESULTS = ROOT / "bench" / "results"
# The cluster's Nginx serves a certificate the cluster made a moment before (self-signed).
VERIFY_TLS = bool(__import__("os").environ.get("SOAK_VERIFY_TLS"))
PASSWORD = "soak-pass-phrase-long-enough"  # noqa: S105 - the soak's own throwaway accounts
# The soak is one client address making hundreds of requests a second: the limits meant for
# the public would refuse it. Everything else is deploy/.env.example's production settings.
SOAK_ENV = {
    "RATE_LIMIT_DEFAULT": "1000000/minute",
    "AUTH_LOGIN_RATE": "1000000/minute",
    "AUTH_LOCKOUT_FAILURES": "1000000",
    "FILES_UPLOAD_RATE": "1000000/hour",
    "NGINX_RATE_PER_SECOND": "5000",
    "NGINX_RATE_BURST": "5000",
    "NGINX_AUTH_RATE_PER_SECOND": "5000",
}


# --- recording --------------------------------------------------------------------------------


@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[float, str, str, int, float]] = field(default_factory=list)
    cache_status: Counter[str] = field(default_factory=Counter)
    task_ids: set[str] = field(default_factory=set)
    file_ids: set[str] = field(default_factory=set)
    sealed: dict[str, datetime] = field(default_factory=dict)
    deposits_paid: set[str] = field(default_factory=set)  # wallet transaction ids
    events: list[tuple[str, str]] = field(default_factory=list)  # (event id, host's token)
    checked_in: set[str] = field(default_factory=set)  # ticket ids scanned in (answered ok)
    withdrawals: set[str] = field(default_factory=set)  # wallet transaction ids, accepted
    tickets_paid: set[str] = field(default_factory=set)  # paid at the sandbox checkout

    def add(self, scenario: str, operation: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.append(
                (time.monotonic() - self.started, scenario, operation, status, seconds)
            )


@dataclass
class Session:
    """One client thread: its HTTP connection pool, its user and the recorder."""

    client: httpx.Client
    recorder: Recorder
    rng: random.Random
    email: str
    peers: list[str]
    token: str = ""
    scenario: str = ""
    hosting: str = ""  # the event this client hosts, once it made one
    joined: set[str] = field(default_factory=set)
    withdrawn: int = 0  # withdrawals asked for (the limit is 5 an hour per person)
    # Paid tickets waiting for their webhook: ticket id -> (event id, host's token)
    to_scan: dict[str, tuple[str, str]] = field(default_factory=dict)

    def call(
        self, method: str, path: str, operation: str, *, auth: bool = True, **kwargs: Any
    ) -> httpx.Response | None:
        headers = dict(kwargs.pop("headers", {}) or {})
        headers["Host"] = DOMAIN
        if auth and self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")  # a host's, at the door
        started = time.perf_counter()
        try:
            reply = self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError:
            self.recorder.add(self.scenario, operation, 0, time.perf_counter() - started)
            return None
        self.recorder.add(
            self.scenario, operation, reply.status_code, time.perf_counter() - started
        )
        return reply


# --- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int
    needs: tuple[str, ...]  # "METHOD /api/path" operations from /api/openapi.json
    run: Callable[[Session], None]


def sign_in(session: Session) -> None:
    reply = session.call(
        "POST",
        "/api/auth/login",
        "POST /api/auth/login",
        auth=False,
        json={"email": session.email, "password": PASSWORD},
    )
    if reply is not None and reply.status_code == 200:
        session.token = reply.json()["data"]["accessToken"]


def website_document(session: Session) -> None:
    variant = session.rng.choice(
        [{}, {"Accept-Language": "ar"}, {"Accept-Language": "en-US,en;q=0.9"}, {"lang": "ar"}]
    )
    params = {"lang": variant.pop("lang")} if "lang" in variant else None
    reply = session.call(
        "GET",
        "/api/website-data/",
        "GET /api/website-data/",
        auth=False,
        headers=variant,
        params=params,
    )
    if reply is not None:
        with session.recorder.lock:
            session.recorder.cache_status[reply.headers.get("X-Cache-Status", "none")] += 1


def capsules(session: Session) -> None:
    created = session.call(
        "POST",
        "/api/capsules",
        "POST /api/capsules",
        json={
            "title": "Soak",
            "body": "Written by the soak.",
            "receiverEmail": session.rng.choice(session.peers),
        },
    )
    if created is not None and created.status_code == 201:
        capsule_id = created.json()["data"]["id"]
        unlock = datetime.now(tz=UTC) + timedelta(seconds=session.rng.randint(65, 80))
        sealed = session.call(
            "POST",
            f"/api/capsules/{capsule_id}/seal",
            "POST /api/capsules/{id}/seal",
            json={"scheduledUnlockAt": unlock.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        if sealed is not None and sealed.status_code == 200:
            with session.recorder.lock:
                session.recorder.sealed[capsule_id] = unlock
    box = session.rng.choice(["inbox", "outbox"])
    session.call("GET", f"/api/capsules?box={box}", "GET /api/capsules")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (random.randint(0, 255), 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


_IMAGE = _png()


def uploads(session: Session) -> None:
    reply = session.call(
        "POST",
        "/api/files?purpose=avatar",
        "POST /api/files",
        files={"file": ("soak.png", _IMAGE, "image/png")},
    )
    if reply is not None and reply.status_code in (200, 201, 202):
        data = reply.json()["data"]
        with session.recorder.lock:
            session.recorder.file_ids.add(data["id"])
            if data.get("taskId"):
                session.recorder.task_ids.add(data["taskId"])


def _key(session: Session, what: str) -> dict[str, str]:
    return {"Idempotency-Key": f"soak-{what}-{session.rng.getrandbits(64):x}"}


def wallet(session: Session) -> None:
    """A deposit paid on the sandbox checkout (whose signed webhook a worker settles), the
    balance, and now and then the transaction list."""
    reply = session.call(
        "POST",
        "/api/deposits",
        "POST /api/deposits",
        json={"amount": "10.00", "currency": "ZAR"},
        headers=_key(session, "deposit"),
    )
    if reply is None or reply.status_code != 201:
        return
    data = reply.json()["data"]
    checkout = urlsplit(data["checkoutUrl"]).path
    paid = session.call(
        "POST", checkout, "POST /sandbox/checkout/{id}", auth=False, data={"action": "pay"}
    )
    if paid is not None and paid.status_code in (200, 303):
        with session.recorder.lock:
            session.recorder.deposits_paid.add(data["transactionId"])
    balance = session.call("GET", "/api/balance", "GET /api/balance")
    if session.rng.random() < 0.3:
        session.call("GET", "/api/transactions", "GET /api/transactions")
    if balance is not None and balance.status_code == 200 and session.withdrawn < 4:
        available = next(
            (b["amount"] for b in balance.json()["data"]["balances"] if b["currency"] == "ZAR"),
            "0",
        )
        if float(available) >= 10 and session.rng.random() < 0.25:
            _withdraw(session)


def _withdraw(session: Session) -> None:
    """R 10.00 (the minimum) to a bank account: reserved at once, paid out by the sandbox
    after its delay, completed by the payout webhook a worker settles."""
    session.withdrawn += 1
    reply = session.call(
        "POST",
        "/api/withdrawals",
        "POST /api/withdrawals",
        json={
            "amount": "10.00",
            "currency": "ZAR",
            "bankDetails": {
                "accountHolder": "Soak Client",
                "accountNumber": "62012345678",
                "bankCode": "250655",
            },
        },
        headers=_key(session, "withdrawal"),
    )
    if reply is not None and reply.status_code == 201:
        with session.recorder.lock:
            session.recorder.withdrawals.add(reply.json()["data"]["transactionId"])


def _host_an_event(session: Session) -> None:
    starts = datetime.now(tz=UTC) + timedelta(days=1)
    paid = {"price": "25.00", "currency": "ZAR"} if session.rng.random() < 0.5 else {}
    created = session.call(
        "POST",
        "/api/events",
        "POST /api/events",
        json={
            **paid,
            "title": f"Soak party {session.rng.getrandbits(16)}",
            "capacity": 10000,
            "requiresApproval": False,
            "startsAt": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endsAt": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": "Africa/Johannesburg",
            "onlineUrl": "https://example.com/live",
        },
        headers=_key(session, "event"),
    )
    if created is None or created.status_code != 201:
        return
    event_id = created.json()["data"]["id"]
    published = session.call(
        "POST", f"/api/events/{event_id}/publish", "POST /api/events/{event_id}/publish"
    )
    if published is not None and published.status_code == 200:
        session.hosting = event_id
        with session.recorder.lock:
            session.recorder.events.append((event_id, session.token))


def _scan(session: Session, event_id: str, host_token: str, ticket: dict[str, Any]) -> None:
    presented = {"ticket": ticket["secret"]} if ticket.get("secret") else {"code": ticket["code"]}
    scan = {
        **presented,
        "nonce": f"soak-{ticket['id']}",
        "scannedAt": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "direction": "entry",
    }
    for _attempt in range(2):  # the door's retry: the same nonce gets the same answer
        reply = session.call(
            "POST",
            f"/api/events/{event_id}/checkins",
            "POST /api/events/{event_id}/checkins",
            json=scan,
            headers={"Authorization": f"Bearer {host_token}"},
        )
        ok = reply is not None and reply.status_code in (200, 201)
        if ok and reply is not None and reply.json()["data"].get("result") == "ok":
            with session.recorder.lock:
                session.recorder.checked_in.add(ticket["id"])


def _pay(session: Session, ticket: dict[str, Any], event_id: str, host_token: str) -> None:
    """A reserved ticket of a paid event: its checkout, paid on the sandbox page; the door
    scans it once the webhook made it valid (a later turn of this client)."""
    checkout = session.call(
        "POST",
        f"/api/events/tickets/{ticket['id']}/checkout",
        "POST /api/events/tickets/{ticket_id}/checkout",
        json={},
        headers=_key(session, "ticket"),
    )
    if checkout is None or checkout.status_code not in (200, 201):
        return
    page = urlsplit(checkout.json()["data"]["checkoutUrl"]).path
    paid = session.call(
        "POST", page, "POST /sandbox/checkout/{id}", auth=False, data={"action": "pay"}
    )
    if paid is not None and paid.status_code in (200, 303):
        with session.recorder.lock:
            session.recorder.tickets_paid.add(ticket["id"])
        session.to_scan[ticket["id"]] = (event_id, host_token)


def _scan_paid(session: Session) -> None:
    for ticket_id, (event_id, host_token) in list(session.to_scan.items()):
        reply = session.call(
            "GET", f"/api/events/tickets/{ticket_id}", "GET /api/events/tickets/{ticket_id}"
        )
        if reply is None or reply.status_code != 200:
            continue
        ticket = reply.json()["data"]
        if ticket["status"] == "valid":
            del session.to_scan[ticket_id]
            _scan(session, event_id, host_token, ticket)


def events(session: Session) -> None:
    """Host one event (free or paid); join others' (without approval a place is taken at
    once: a free event issues a valid ticket, a paid one a reserved ticket, paid on the
    sandbox checkout and made valid by the webhook), and have the host scan each valid
    ticket in, the scan retried (same nonce)."""
    _scan_paid(session)
    with session.recorder.lock:
        others = [(e, token) for e, token in session.recorder.events if e != session.hosting]
    if not session.hosting and (not others or session.rng.random() < 0.2):
        _host_an_event(session)
        return
    session.call("GET", "/api/events", "GET /api/events")
    candidates = [(e, token) for e, token in others if e not in session.joined]
    if not candidates:
        return
    event_id, host_token = session.rng.choice(candidates)
    joined = session.call(
        "POST",
        f"/api/events/{event_id}/requests",
        "POST /api/events/{event_id}/requests",
        json={},
        headers=_key(session, "join"),
    )
    if joined is None or joined.status_code != 201:
        return
    session.joined.add(event_id)
    tickets = session.call("GET", "/api/events/tickets", "GET /api/events/tickets")
    if tickets is None or tickets.status_code != 200:
        return
    ticket = next((t for t in tickets.json()["data"]["items"] if t["eventId"] == event_id), None)
    if ticket is None:
        return
    if ticket["status"] == "reserved":
        _pay(session, ticket, event_id, host_token)
    elif ticket["status"] == "valid":
        _scan(session, event_id, host_token, ticket)


SCENARIOS: list[Scenario] = [
    Scenario("sign-in", 1, ("POST /api/auth/login",), sign_in),
    Scenario("website", 6, ("GET /api/website-data/",), website_document),
    Scenario(
        "capsules",
        4,
        ("POST /api/capsules", "POST /api/capsules/{capsule_id}/seal", "GET /api/capsules"),
        capsules,
    ),
    Scenario("uploads", 1, ("POST /api/files",), uploads),
    Scenario("wallet", 2, ("POST /api/deposits", "GET /api/balance"), wallet),
    Scenario(
        "events",
        2,
        (
            "POST /api/events",
            "POST /api/events/{event_id}/requests",
            "POST /api/events/{event_id}/checkins",
        ),
        events,
    ),
]


def available(scenarios: list[Scenario], base_url: str) -> tuple[list[Scenario], list[str]]:
    schema = httpx.get(
        f"{base_url}/api/openapi.json", headers={"Host": DOMAIN}, verify=VERIFY_TLS, timeout=30
    ).json()
    operations = {f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m in ops}
    chosen, skipped = [], []
    for scenario in scenarios:
        missing = [op for op in scenario.needs if op not in operations]
        if missing:
            skipped.append(f"{scenario.name}: skipped, the API has no {', '.join(missing)}")
        else:
            chosen.append(scenario)
    return chosen, skipped


# --- the run ------------------------------------------------------------------------------------


def create_users(cluster: Cluster, count: int) -> list[str]:
    emails = [f"soak-{i}@tessera.test" for i in range(count)]
    script = (
        "from tessera.accounts.models import User\n"
        f"for email in {emails!r}:\n"
        "    if not User.objects.filter(email=email).exists():\n"
        f"        User.objects.create_user(email=email, password={PASSWORD!r}, name='Soak')\n"
    )
    cluster._manage("shell", "-c", script)
    return emails


def client_loop(session: Session, scenarios: list[Scenario], stop: threading.Event) -> None:
    weights = [s.weight for s in scenarios]
    session.scenario = "sign-in"
    sign_in(session)
    while not stop.is_set():
        scenario = session.rng.choices(scenarios, weights)[0]
        session.scenario = scenario.name
        scenario.run(session)


@dataclass
class Fault:
    at: float
    what: str
    recovery: float | None = None
    error: str = ""


def faults(
    cluster: Cluster,
    plan: list[tuple[float, str]],
    started: float,
    stop: threading.Event,
    log: list[Fault],
) -> None:
    web_turn = worker_turn = 0
    for at, what in plan:
        while time.monotonic() - started < at:
            if stop.wait(0.2):
                return
        fault = Fault(at=round(time.monotonic() - started, 1), what=what)
        try:
            if what == "web":
                index = web_turn % len(cluster.web)
                web_turn += 1
                fault.what = f"kill -9 web{index + 1}"
                killed_at = time.monotonic()
                cluster.kill(cluster.web[index])
                managed = cluster.start_web(index)
                wait_for(lambda i=index: cluster.web_ready(i), 90, fault.what, managed=managed)
                fault.recovery = time.monotonic() - killed_at
            elif what == "worker":
                index = worker_turn % len(cluster.workers)
                worker_turn += 1
                fault.what = f"kill -9 worker{index + 1}"
                killed_at = time.monotonic()
                cluster.kill(cluster.workers[index])
                managed = cluster.start_worker(index)
                offset = managed.log_path.stat().st_size
                wait_for(
                    lambda i=index, o=offset: cluster.worker_ready(i, o),
                    90,
                    fault.what,
                    managed=managed,
                )
                fault.recovery = time.monotonic() - killed_at
            elif what == "redis":
                fault.what = "restart Redis"
                killed_at = time.monotonic()
                cluster.restart_redis()
                wait_for(lambda: _ready_through_nginx(cluster), 90, "health after Redis restart")
                fault.recovery = time.monotonic() - killed_at
        except ClusterError as error:
            fault.error = str(error)[:500]
        log.append(fault)
        print(
            f"  t={fault.at:6.1f}s {fault.what}: recovered in {fault.recovery:.2f}s"
            if fault.recovery is not None
            else f"  {fault.what}: {fault.error}"
        )


def _ready_through_nginx(cluster: Cluster) -> bool:
    try:
        reply = httpx.get(
            f"{cluster.base_url}/health/ready",
            headers={"Host": DOMAIN},
            verify=VERIFY_TLS,
            timeout=3,
        )
    except httpx.HTTPError:
        return False
    return reply.status_code == 200


def fault_plan(duration: float, kill_every: float, *, redis: bool) -> list[tuple[float, str]]:
    plan: list[tuple[float, str]] = []
    at = kill_every
    while at < duration:
        plan += [(at, "web"), (at + 5, "worker")]
        at += kill_every
    if redis:
        middle = duration / 2
        if any(abs(middle - t) < 20 for t, _ in plan):
            middle += kill_every / 2 if kill_every / 2 < duration / 2 else 15
        plan.append((middle, "redis"))
    return sorted(plan)


def account(cluster: Cluster, recorder: Recorder, drain: float) -> dict[str, Any]:
    """Wait for the work the traffic caused, then count it from the database."""
    deadline = time.monotonic() + drain
    task_ids = sorted(recorder.task_ids)
    ready_by = datetime.now(tz=UTC) + timedelta(seconds=drain) - timedelta(seconds=65)
    expected_ready = sorted(cid for cid, unlock in recorder.sealed.items() if unlock <= ready_by)
    with psycopg.connect(cluster.database_url, autocommit=True) as conn:
        while True:
            states: dict[str, int] = dict(
                conn.execute(
                    "SELECT state, count(*) FROM tasks_taskrecord WHERE id = ANY(%s::uuid[]) "
                    "GROUP BY state",
                    (task_ids,),
                ).fetchall()
            )
            ready = conn.execute(
                "SELECT count(*) FROM capsules_capsule WHERE id = ANY(%s::uuid[]) AND "
                "state IN ('ready', 'opened')",
                (expected_ready,),
            ).fetchone()[0]  # type: ignore[index]
            notified = conn.execute(
                "SELECT count(DISTINCT data->>'capsuleId') FROM notifications_notification "
                "WHERE kind = 'capsules.ready' AND data->>'capsuleId' = ANY(%s)",
                (expected_ready,),
            ).fetchone()[0]  # type: ignore[index]
            credited = conn.execute(
                "SELECT count(*) FROM wallet_wallettransaction WHERE id = ANY(%s::uuid[]) AND "
                "status = 'completed'",
                (sorted(recorder.deposits_paid),),
            ).fetchone()[0]  # type: ignore[index]
            settled = conn.execute(
                "SELECT count(*) FROM wallet_wallettransaction WHERE id = ANY(%s::uuid[]) AND "
                "status IN ('completed', 'failed')",
                (sorted(recorder.withdrawals),),
            ).fetchone()[0]  # type: ignore[index]
            valid = conn.execute(
                "SELECT count(*) FROM events_ticket WHERE id = ANY(%s::uuid[]) AND "
                "status = 'valid'",
                (sorted(recorder.tickets_paid),),
            ).fetchone()[0]  # type: ignore[index]
            finished = states.get("SUCCESS", 0) + states.get("FAILURE", 0)
            done = (
                finished == len(task_ids)
                and ready == notified == len(expected_ready)
                and credited == len(recorder.deposits_paid)
                and settled == len(recorder.withdrawals)
                and valid == len(recorder.tickets_paid)
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(2)
        duplicates = conn.execute(
            "SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "
            "notifications_notification WHERE kind LIKE 'capsules.%%' AND data->>'capsuleId' = "
            "ANY(%s) GROUP BY kind, user_id, data->>'capsuleId') AS per",
            (list(recorder.sealed),),
        ).fetchone()[0]  # type: ignore[index]
        delivery_duplicates = conn.execute(
            "SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "
            "notifications_delivery d JOIN notifications_notification n ON n.id = "
            "d.notification_id WHERE n.data->>'capsuleId' = ANY(%s) GROUP BY d.notification_id,"
            " d.channel) AS per",
            (list(recorder.sealed),),
        ).fetchone()[0]  # type: ignore[index]
        deposits: dict[str, int] = dict(
            conn.execute(
                "SELECT status, count(*) FROM wallet_wallettransaction WHERE id = "
                "ANY(%s::uuid[]) GROUP BY status",
                (sorted(recorder.deposits_paid),),
            ).fetchall()
        )
        withdrawals: dict[str, int] = dict(
            conn.execute(
                "SELECT status, count(*) FROM wallet_wallettransaction WHERE id = "
                "ANY(%s::uuid[]) GROUP BY status",
                (sorted(recorder.withdrawals),),
            ).fetchall()
        )
        tickets: dict[str, int] = dict(
            conn.execute(
                "SELECT status, count(*) FROM events_ticket WHERE id = ANY(%s::uuid[]) "
                "GROUP BY status",
                (sorted(recorder.tickets_paid),),
            ).fetchall()
        )
        # The soak only moves money in its own users' wallets: each balance must be exactly
        # its completed deposits less its withdrawals not failed (a failed payout gives the
        # money back), and the sum of its ledger entries. A double credit, a lost one or a
        # payout taken twice shows here.
        wrong_wallets = conn.execute(
            "SELECT count(*) FROM wallet_ledgeraccount a JOIN accounts_user u ON u.id = "
            "a.owner_id WHERE a.kind = 'user_wallet' AND u.email LIKE 'soak-%%' AND "
            "(a.balance_minor <> COALESCE((SELECT sum(CASE WHEN t.kind = 'deposit' THEN "
            "t.amount_minor ELSE -t.amount_minor END) FROM wallet_wallettransaction t WHERE "
            "t.user_id = u.id AND t.currency = a.currency AND ((t.kind = 'deposit' AND "
            "t.status = 'completed') OR (t.kind = 'withdrawal' AND t.status IN "
            "('processing', 'completed')))), 0) OR a.balance_minor <> "
            "COALESCE((SELECT sum(e.amount_minor) FROM wallet_ledgerentry e WHERE "
            "e.account_id = a.id), 0))"
        ).fetchone()[0]  # type: ignore[index]
        double_checkins = conn.execute(
            "SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM events_checkin "
            "WHERE ticket_id = ANY(%s::uuid[]) AND result = 'ok' AND direction = 'entry' "
            "GROUP BY ticket_id) AS per",
            (sorted(recorder.checked_in),),
        ).fetchone()[0]  # type: ignore[index]
        files: dict[str, int] = dict(
            conn.execute(
                "SELECT status, count(*) FROM files_storedfile WHERE id = ANY(%s::uuid[]) "
                "GROUP BY status",
                (sorted(recorder.file_ids),),
            ).fetchall()
        )
    return {
        "tasks_sent": len(task_ids),
        "tasks_by_state": states,
        "tasks_lost": len(task_ids) - finished,
        "capsules_sealed": len(recorder.sealed),
        "capsules_due_in_window": len(expected_ready),
        "capsules_ready": ready,
        "capsules_notified": notified,
        "notifications_duplicated": int(duplicates),
        "deliveries_duplicated": int(delivery_duplicates),
        "files_by_status": files,
        "deposits_paid": len(recorder.deposits_paid),
        "deposits_by_status": deposits,
        "deposits_lost": len(recorder.deposits_paid) - deposits.get("completed", 0),
        "wallets_wrong_balance": int(wrong_wallets),
        "withdrawals": len(recorder.withdrawals),
        "withdrawals_by_status": withdrawals,
        "withdrawals_unsettled": len(recorder.withdrawals)
        - withdrawals.get("completed", 0)
        - withdrawals.get("failed", 0),
        "tickets_paid": len(recorder.tickets_paid),
        "tickets_paid_by_status": tickets,
        "tickets_paid_not_valid": len(recorder.tickets_paid) - tickets.get("valid", 0),
        "events_hosted": len(recorder.events),
        "tickets_checked_in": len(recorder.checked_in),
        "double_checkins": int(double_checkins),
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]
        if len(values) > 1
        else values[0]
    )


def summarise(recorder: Recorder) -> dict[str, Any]:
    latencies = [s[4] for s in recorder.samples]
    by_status = Counter(str(s[3]) for s in recorder.samples)
    per_scenario = {}
    for name in sorted({s[1] for s in recorder.samples}):
        values = [s[4] for s in recorder.samples if s[1] == name]
        per_scenario[name] = {
            "requests": len(values),
            "p50_ms": round(_percentile(values, 50) * 1000, 1),
            "p99_ms": round(_percentile(values, 99) * 1000, 1),
            "errors": sum(
                1 for s in recorder.samples if s[1] == name and (s[3] >= 500 or s[3] == 0)
            ),
        }
    return {
        "requests": len(latencies),
        "by_status": dict(sorted(by_status.items())),
        "errors_5xx_or_connection": sum(v for k, v in by_status.items() if k == "0" or k >= "500"),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
        "per_scenario": per_scenario,
        "website_cache": dict(recorder.cache_status),
        # Replies other than 2xx/3xx by operation: what a 4xx was answering.
        "refused_by_operation": dict(
            sorted(Counter(f"{s[2]} -> {s[3]}" for s in recorder.samples if s[3] >= 400).items())
        ),
    }


def markdown(result: dict[str, Any]) -> str:
    t, a = result["traffic"], result["accounting"]
    lines = [
        f"# Soak, {result['started']}",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine']}",
        "",
        (
            "Topology: Nginx (HTTPS, HTTP/1.1 clients) → 3 granian web processes, 2 Celery "
            "workers (prefork, 2 each), beat; PostgreSQL, RabbitMQ, Redis; "
            f"{result['clients']} client threads for {result['duration']} s."
        ),
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests served | {t['requests']} ({t['requests'] / result['duration']:.1f}/s) |",
        f"| by status | {', '.join(f'{k}: {v}' for k, v in t['by_status'].items())} |",
        f"| 5xx or connection errors | {t['errors_5xx_or_connection']} |",
        f"| p50 / p99 | {t['p50_ms']} ms / {t['p99_ms']} ms |",
        (
            f"| tracked tasks sent / lost | {a['tasks_sent']} / **{a['tasks_lost']}** "
            f"({a['tasks_by_state']}) |"
        ),
        (
            f"| capsules sealed / due in window / ready / notified | {a['capsules_sealed']} / "
            f"{a['capsules_due_in_window']} / {a['capsules_ready']} / {a['capsules_notified']} |"
        ),
        (
            f"| duplicated notifications / deliveries | **{a['notifications_duplicated']}** / "
            f"**{a['deliveries_duplicated']}** |"
        ),
        f"| uploaded files by status | {a['files_by_status']} |",
        (
            f"| deposits paid / lost / by status | {a['deposits_paid']} / "
            f"**{a['deposits_lost']}** / {a['deposits_by_status']} |"
        ),
        (
            f"| withdrawals / unsettled / by status | {a['withdrawals']} / "
            f"**{a['withdrawals_unsettled']}** / {a['withdrawals_by_status']} |"
        ),
        f"| soak wallets whose balance is wrong | **{a['wallets_wrong_balance']}** |",
        (
            f"| paid tickets / not valid after the drain / by status | {a['tickets_paid']} / "
            f"**{a['tickets_paid_not_valid']}** / {a['tickets_paid_by_status']} |"
        ),
        (
            f"| events hosted / tickets checked in / double check-ins | {a['events_hosted']} / "
            f"{a['tickets_checked_in']} / **{a['double_checkins']}** |"
        ),
        f"| website document at Nginx | {t['website_cache']} |",
        "",
        "| scenario | requests | p50 ms | p99 ms | 5xx/conn. errors |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {s['requests']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} |"
        for name, s in t["per_scenario"].items()
    ]
    lines += [
        "",
        "Refused (4xx/5xx) by operation: "
        + (", ".join(f"{k}: {v}" for k, v in t.get("refused_by_operation", {}).items()) or "none"),
        "",
        "Skipped scenarios: " + ("; ".join(result["skipped"]) or "none"),
        "",
        "| t (s) | fault | recovery (s) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {f['at']} | {f['what']} | {f['recovery']:.2f} |"
        if f["recovery"] is not None
        else f"| {f['at']} | {f['what']} | failed: {f['error']} |"
        for f in result["faults"]
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    import os
    import platform

    for key, value in SOAK_ENV.items():
        os.environ.setdefault(f"CLUSTER_ENV_{key}", value)
    workdir = (
        Path(args.workdir)
        if args.workdir
        else Path(__import__("tempfile").mkdtemp(prefix="tessera-ops-soak-"))
    )
    cluster = Cluster(workdir=workdir, keep=args.keep)
    started_at = datetime.now(tz=UTC)
    try:
        print("soak: starting the cluster")
        cluster.start()
        scenarios, skipped = available(SCENARIOS, cluster.base_url)
        for line in skipped:
            print(f"soak: {line}")
        emails = create_users(cluster, args.clients * 2)
        recorder = Recorder()
        stop = threading.Event()
        clients = []
        for index in range(args.clients):
            session = Session(
                client=httpx.Client(base_url=cluster.base_url, verify=VERIFY_TLS, timeout=30),
                recorder=recorder,
                rng=random.Random(index),
                email=emails[index],
                peers=emails[args.clients :],
            )
            clients.append(
                threading.Thread(target=client_loop, args=(session, scenarios, stop), daemon=True)
            )
        plan = fault_plan(args.duration, args.kill_every, redis=args.redis_restart)
        fault_log: list[Fault] = []
        fault_thread = threading.Thread(
            target=faults, args=(cluster, plan, recorder.started, stop, fault_log), daemon=True
        )
        print(
            f"soak: {args.clients} clients for {args.duration} s; faults at "
            f"{[(t, w) for t, w in plan]}"
        )
        for thread in clients:
            thread.start()
        fault_thread.start()
        stop.wait(args.duration)
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
        fault_thread.join(timeout=120)
        traffic = summarise(recorder)
        print(f"soak: traffic done ({traffic['requests']} requests); draining up to {args.drain} s")
        accounting = account(cluster, recorder, args.drain)
    finally:
        cluster.stop()
    return {
        "started": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "command": "scripts/soak.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "duration": args.duration,
        "clients": args.clients,
        "skipped": skipped,
        "traffic": traffic,
        "accounting": accounting,
        "faults": [f.__dict__ for f in fault_log],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--kill-every", type=float, default=120)
    parser.add_argument("--no-redis-restart", dest="redis_restart", action="store_false")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--drain", type=float, default=180)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    install_signal_handlers()
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    (args.out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (args.out / f"soak-{stamp}.md").write_text(text)
    (args.out / "soak-latest.md").write_text(text)
    print(text)
    a = result["accounting"]
    bad = [
        a[name]
        for name in (
            "tasks_lost",
            "notifications_duplicated",
            "deliveries_duplicated",
            "deposits_lost",
            "wallets_wrong_balance",
            "withdrawals_unsettled",
            "tickets_paid_not_valid",
            "double_checkins",
        )
    ]
    return 1 if any(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
