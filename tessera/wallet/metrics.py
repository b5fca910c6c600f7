"""Prometheus metrics of the wallet. The ledger check's figures are read from its last
stored run at scrape time (the check runs in a worker; any web process reports it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

TRANSACTIONS_SETTLED = Counter(
    "tessera_wallet_transactions_settled_total",
    "Wallet transactions that reached a final status, by kind and status.",
    ["kind", "status"],
)


def transaction_settled(kind: str, status: str) -> None:
    TRANSACTIONS_SETTLED.labels(kind, status).inc()


class LedgerCheckCollector(Collector):
    def collect(self) -> Iterator[Any]:
        from tessera.wallet.models import LedgerCheck

        try:
            check = LedgerCheck.objects.order_by("-started_at").first()
        except Exception:  # noqa: BLE001 - a scrape must never fail for this
            return
        ok = GaugeMetricFamily(
            "tessera_wallet_ledger_check_ok",
            "1 when the last ledger check found balances and sums right, 0 when not, "
            "-1 when none has run.",
        )
        mismatches = GaugeMetricFamily(
            "tessera_wallet_ledger_check_mismatches",
            "Problems the last ledger check found, by kind.",
            labels=["kind"],
        )
        last_run = GaugeMetricFamily(
            "tessera_wallet_ledger_check_last_run_timestamp_seconds",
            "When the last ledger check started (Unix time; 0 when none has run).",
        )
        if check is None:
            ok.add_metric([], -1)
            last_run.add_metric([], 0)
            for kind in ("balance", "transfer", "currency_sum"):
                mismatches.add_metric([kind], 0)
        else:
            ok.add_metric([], 1 if check.ok else 0)
            last_run.add_metric([], check.started_at.timestamp())
            mismatches.add_metric(["balance"], len(check.balance_mismatches))
            mismatches.add_metric(["transfer"], len(check.unbalanced_transfers))
            mismatches.add_metric(
                ["currency_sum"], sum(1 for total in check.currency_sums.values() if total)
            )
        yield ok
        yield mismatches
        yield last_run

    def describe(self) -> Iterator[Any]:
        # The names without values, so the registry (and the alert rules' check) knows them
        # without a database query.
        yield GaugeMetricFamily("tessera_wallet_ledger_check_ok", "")
        yield GaugeMetricFamily("tessera_wallet_ledger_check_mismatches", "", labels=["kind"])
        yield GaugeMetricFamily("tessera_wallet_ledger_check_last_run_timestamp_seconds", "")


REGISTRY.register(LedgerCheckCollector())
