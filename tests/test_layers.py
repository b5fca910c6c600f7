"""Module borders that import-linter cannot state alone (pyproject.toml, `[tool.importlinter]`).

1. Every module of an app is public (a name in `PUBLIC`) or listed as private in that app's
   "its private modules are its own" contract, so a new module cannot slip past the border
   contracts by being in neither list.
2. HTTP stays out of services and selectors (issue 13, item 29): no parameter named
   `request`, none annotated `HttpRequest`, and no `user: Any`. The API layer reads what the
   services need from the request into a `ClientContext` (`tessera/core/context.py`).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "tessera"
# What another app may import (CONVENTIONS.md "Module borders"); pyproject.toml says why each.
PUBLIC = {
    "apps",
    "errors",
    "models",
    "schemas",
    "selectors",
    "services",
    "signals",
    # Registries and building blocks offered to other apps.
    "hooks",
    "purposes",
    "fields",
    "admin_mixins",
}
NOT_MODULES = {"__init__", "__pycache__", "migrations", "tests", "templates", "static"}


def _private_modules() -> dict[str, set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    private: dict[str, set[str]] = {}
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["name"].endswith(": its private modules are its own"):
            app = contract["name"].split(":")[0]
            private[app] = set(contract["protected_modules"])
    return private


def _apps() -> list[Path]:
    return sorted(
        path for path in APPS.iterdir() if (path / "apps.py").exists() and path.name != "core"
    )


def test_every_module_of_an_app_is_public_or_private() -> None:
    private = _private_modules()
    unlisted = []
    for app in _apps():
        assert app.name in private, f"no private-modules contract for tessera.{app.name}"
        for child in sorted(app.iterdir()):
            name = child.stem if child.suffix == ".py" else child.name
            if name in NOT_MODULES or not (
                child.suffix == ".py" or (child / "__init__.py").exists()
            ):
                continue
            dotted = f"tessera.{app.name}.{name}"
            if name not in PUBLIC and dotted not in private[app.name]:
                unlisted.append(dotted)
    assert not unlisted, (
        "List these in their app's private-modules contract in pyproject.toml (or, if other "
        f"apps must use them, make them public there and here): {unlisted}"
    )


def _layer_modules() -> list[Path]:
    paths: list[Path] = []
    for app in _apps():
        for name in ("services", "selectors"):
            if (app / f"{name}.py").exists():
                paths.append(app / f"{name}.py")
            paths.extend(sorted((app / name).glob("*.py")))
    return paths


def _http_leaks(path: Path) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            *[a for a in (arguments.vararg, arguments.kwarg) if a is not None],
        ]:
            annotation = ast.unparse(argument.annotation) if argument.annotation else ""
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            where = f"{shown}:{node.lineno} {node.name}({argument.arg}"
            if argument.arg == "request":
                problems.append(f"{where}) takes a request")
            if "HttpRequest" in annotation:
                problems.append(f"{where}: {annotation}) takes an HttpRequest")
            if argument.arg == "user" and annotation.replace(" ", "") in {"Any", "Any|None"}:
                problems.append(f"{where}: {annotation}) is an untyped user")
    return problems


def test_the_layer_walk_finds_the_modules() -> None:
    names = {str(path.relative_to(ROOT)) for path in _layer_modules()}
    assert "tessera/accounts/services/sessions.py" in names
    assert "tessera/files/selectors.py" in names


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("def f(*, request): ...", "takes a request"),
        ("def f(*, client, http: HttpRequest | None = None): ...", "takes an HttpRequest"),
        ("def f(*, user: Any): ...", "untyped user"),
        ("def f(*, user: User, client: ClientContext | None = None): ...", None),
    ],
)
def test_the_check_sees_each_kind_of_leak(tmp_path: Path, source: str, found: str | None) -> None:
    module = tmp_path / "services.py"
    module.write_text(source + "\n")
    problems = _http_leaks(module)
    assert problems[0].endswith(found) if found else problems == [], problems


def test_services_and_selectors_take_no_http_request_and_no_untyped_user() -> None:
    problems = [problem for path in _layer_modules() for problem in _http_leaks(path)]
    assert not problems, "\n".join(problems)
