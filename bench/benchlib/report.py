"""Writing a run's results: `<UTC stamp>.json`, `<UTC stamp>.md` and `latest.md`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from benchlib.machine import one_line
from benchlib.stack import ALL_APPS, SERVERS

TARGETS = {
    "tessera/django_plain": 0.80,
    "tessera/drf": 1.3,
}


def md_table(header: list[str], rows: list[list[object]]) -> list[str]:
    """A Markdown table's lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _met(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "met" if value >= target else "**missed**"


def _health_notes(results: dict[str, Any]) -> list[str]:
    """Errors outside the measured windows: warm-up, and what Tessera itself logged."""
    notes = []
    for key, entry in results.items():
        warm = entry.get("warmup") or {}
        if warm.get("errors"):
            notes.append(
                f"- `{key}`: **{warm['errors']} errors during the warm-up** "
                f"({warm['non_2xx']} HTTP >= 400, {warm['socket_errors']} socket)."
            )
        statuses = entry.get("server_logged_statuses") or {}
        bad = {code: n for code, n in statuses.items() if not code.startswith("2")}
        if bad:
            listed = ", ".join(f"{n} x {code}" for code, n in bad.items())
            notes.append(f"- `{key}`: Tessera's access log recorded {listed} over its life.")
        if entry.get("alive_after") is False:
            notes.append(f"- `{key}`: the server had exited by the end of the runs.")
    if not notes:
        return []
    return ["", "Outside the measured windows:", "", *notes]


def _selection_md(selection: dict[str, Any]) -> list[str]:
    results = selection["results"]
    lines = [
        "## Server selection",
        "",
        (
            "Tessera `GET /api/ping` (whole stack) and the plain-Django view on each server, "
            "2 worker processes each, all interleaved."
        ),
        "",
        (
            "| server | Tessera req/s | p50 ms | p99 ms | errors | CPU µs/req "
            "| plain Django req/s | p99 ms | errors | CPU µs/req | Tessera ÷ plain "
            "| others' CPU s |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in selection["servers"]:
        tessera = results.get(f"{name}/tessera", {}).get("summary")
        plain = results.get(f"{name}/django_plain", {}).get("summary")
        if not tessera:
            continue
        ratio = f"{tessera['rps'] / plain['rps']:.2f}" if plain and plain["rps"] else "n/a"
        plain_cells = (
            f"{plain['rps']:,.0f} | {plain['p99_ms']:.1f} | {plain['errors']} "
            f"| {plain['server_cpu_us_per_req']:.0f}"
            if plain
            else "n/a | n/a | n/a | n/a"
        )
        lines.append(
            f"| {SERVERS[name].label} | {tessera['rps']:,.0f} | {tessera['p50_ms']:.2f} "
            f"| {tessera['p99_ms']:.1f} | {tessera['errors']} "
            f"| {tessera['server_cpu_us_per_req']:.0f} | {plain_cells} | {ratio} "
            f"| {tessera['other_cpu_s']:.1f} |"
        )
    lines += _health_notes(results)
    choice = selection.get("choice")
    if choice:
        lines += [
            "",
            (
                f"Chosen: **{choice['chosen']}** ({choice['rule']}). "
                f"Candidates within noise of the best: {', '.join(choice['candidates'])}."
            ),
        ]
    return [*lines, ""]


def _comparison_md(comparison: dict[str, Any]) -> list[str]:
    results = comparison["results"]
    server = comparison["server"]
    lines = [
        f"## Comparison on {SERVERS[server].label}",
        "",
        f"Server: `{server}` ({comparison['server_source']}).",
        "",
        (
            "| app | req/s | p50 ms | p99 ms | errors | server CPU s/run | CPU µs/req "
            "| peak RSS MB (tree) | ÷ ceiling | others' CPU s |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ceiling = results.get(f"{server}/ceiling", {}).get("summary")
    for app in comparison["apps"]:
        summary = results.get(f"{server}/{app}", {}).get("summary")
        if not summary:
            continue
        of_ceiling = f"{summary['rps'] / ceiling['rps']:.2f}" if ceiling else "n/a"
        lines.append(
            f"| {ALL_APPS[app].label} | {summary['rps']:,.0f} | {summary['p50_ms']:.2f} "
            f"| {summary['p99_ms']:.1f} | {summary['errors']} | {summary['server_cpu_s']:.1f} "
            f"| {summary['server_cpu_us_per_req']:.0f} | {summary['peak_tree_rss_mb']:.0f} "
            f"| {of_ceiling} | {summary['other_cpu_s']:.1f} |"
        )
    lines += _health_notes(results)
    lines += ["", "| ratio (req/s) | value | per round | target |", "|---|---:|---|---|"]
    for name, ratio in comparison["ratios"].items():
        target = TARGETS.get(name)
        target_cell = f"≥ {target:.2f}: {_met(ratio['ratio'], target)}" if target else ""
        per_round = ", ".join(f"{value:.2f}" for value in ratio["per_round"])
        lines.append(f"| {name} | {_fmt_ratio(ratio['ratio'])} | {per_round} | {target_cell} |")
    return [*lines, ""]


def _attribution_md(attribution: dict[str, Any]) -> list[str]:
    results = attribution["results"]
    server = attribution["server"]
    lines = [
        f"## Where Tessera's time goes (on `{server}`)",
        "",
        (
            "Tessera with parts of its stack switched off by its own settings (not production "
            "configurations), beside plain Django, interleaved."
        ),
        "",
        (
            "| app | req/s | p50 ms | p99 ms | errors | CPU µs/req | CPU µs/req saved "
            "| others' CPU s |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    saved = attribution["cpu_us_per_request_saved_vs_tessera"]
    for app in attribution["apps"]:
        summary = results.get(f"{server}/{app}", {}).get("summary")
        if not summary:
            continue
        lines.append(
            f"| {ALL_APPS[app].label} | {summary['rps']:,.0f} | {summary['p50_ms']:.2f} "
            f"| {summary['p99_ms']:.1f} | {summary['errors']} "
            f"| {summary['server_cpu_us_per_req']:.0f} | {saved.get(app, 0):.0f} "
            f"| {summary['other_cpu_s']:.1f} |"
        )
    lines += _health_notes(results)
    return [*lines, ""]


def _idle_md(idle: dict[str, Any]) -> list[str]:
    lines = ["## Idle memory", ""]
    web = idle.get("web")
    if web:
        leader = web["leader"][0]["rss_mb"] if web["leader"] else 0.0
        verdict = "met" if web["worker_rss_mb"] < web["target_worker_rss_mb"] else "**missed**"
        lines.append(
            f"- Web worker ({web['server']}, 1 worker, Tessera prod settings, warmed with "
            f"{web['warm_requests']} requests): **{web['worker_rss_mb']:.1f} MB RSS** "
            f"(target < {web['target_worker_rss_mb']} MB: {verdict}); the server's own "
            f"leader process {leader:.1f} MB."
        )
    celery = idle.get("celery")
    if celery:
        verdict = "met" if celery["sum_rss_mb"] < celery["target_sum_rss_mb"] else "**missed**"
        lines.append(
            f"- Celery worker (prefork, concurrency 1, idle): parent "
            f"{celery['parent_rss_mb']:.1f} MB + pool child {celery['pool_children_rss_mb']:.1f} "
            f"MB = **{celery['sum_rss_mb']:.1f} MB RSS** (target < "
            f"{celery['target_sum_rss_mb']} MB: {verdict}; PSS sum {celery['sum_pss_mb']:.1f} MB, "
            "which counts shared pages once)."
        )
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    settings = results["settings"]
    lines = [
        f"# Tessera benchmark {results['stamp']}",
        "",
        f"- Machine: {one_line(results['machine'])}.",
        (
            f"- Commit {results['machine']['git_commit'] or 'unknown'}"
            f"{' (uncommitted changes)' if results['machine']['git_dirty'] else ''}; "
            f"load average at start {results['machine']['load_average_at_start']}."
        ),
        (
            f"- Load: `wrk -t1 -c{settings['connections']} -d{settings['duration']:g}s --latency` "
            f"on 127.0.0.1, {settings['rounds']} interleaved round(s) after a "
            f"{settings['warmup']:g}s warm-up; figures are medians over rounds, errors are summed."
        ),
        f"- Command: `{results['command']}`; complete: {results['complete']}.",
        "",
    ]
    if results.get("error"):
        lines += [f"**The run stopped early:** {results['error']}", ""]
    if results.get("selection"):
        lines += _selection_md(results["selection"])
    if results.get("comparison"):
        lines += _comparison_md(results["comparison"])
    if results.get("attribution"):
        lines += _attribution_md(results["attribution"])
    if results.get("idle"):
        lines += _idle_md(results["idle"])
    lines += [
        (
            "Reading these figures: the machine is shared and has 2 cores, which wrk shares "
            'with the server; differences under ~5% are noise. "Others\' CPU s" is the CPU '
            "the rest of the machine (other tenants, Redis, PostgreSQL) used during a run: "
            "where it is high, req/s is depressed and CPU µs/req is the steadier figure. "
            "Compare ratios against the "
            "baselines of the same run, not absolute figures across runs. Errors are socket "
            "errors plus HTTP statuses >= 400 as wrk counts them; each target's first response "
            "was checked to be a 200 with the ping envelope before any load. "
            "Full data: the JSON file of the same name."
        ),
        "",
    ]
    return "\n".join(lines)


def write_markdown(results: dict[str, Any], out_dir: Path) -> Path:
    """The run's summary; `latest.md` follows complete runs only."""
    md_path = out_dir / f"{results['stamp']}.md"
    md_path.write_text(markdown(results))
    if results.get("complete"):
        shutil.copyfile(md_path, out_dir / "latest.md")
    return md_path


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{results['stamp']}.json"
    json_path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    return json_path, write_markdown(results, out_dir)
