"""Error codes are enums, one per module, all listed in the OpenAPI schema; and one function
renders every error reply (issue 13, item 28). The source is read (AST), so that a literal
code or a hand-built error envelope added later fails here, not in a client."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import tessera
from config.api import api as tessera_api
from tessera.core.errors import ApplicationError, ErrorCode, all_error_codes, error_code_enums

ROOT = Path(tessera.__file__).parent
# The one place an error reply is written, and the one place its format is defined.
RENDERER = ROOT / "core" / "api" / "handlers.py"
ENVELOPE = ROOT / "core" / "envelope.py"


def _sources() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
        and "migrations" not in path.relative_to(ROOT).parts
    )


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"


def _code_value(node: ast.AST) -> ast.AST | None:
    """What `node` gives `code`, when it is `code=<value>` or `code = <value>`."""
    if isinstance(node, ast.keyword):
        return node.value if node.arg == "code" else None
    if isinstance(node, ast.Assign):
        names = {getattr(target, "id", getattr(target, "attr", None)) for target in node.targets}
        return node.value if "code" in names else None
    if isinstance(node, ast.AnnAssign):
        return node.value if getattr(node.target, "id", None) == "code" else None
    return None


def _literal_codes() -> list[tuple[str, Any]]:
    """Every `code = <literal>` and `code=<literal>` in the source (text or f-string)."""
    found: list[tuple[str, Any]] = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            value = _code_value(node)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append((_where(path, node), value.value))
            elif isinstance(value, ast.JoinedStr):
                found.append((_where(path, node), ast.unparse(value)))
    return found


def test_no_error_code_is_written_as_text_in_the_source() -> None:
    members = set(all_error_codes())

    not_members = [(where, code) for where, code in _literal_codes() if code not in members]
    literals = _literal_codes()

    assert not_members == [], "declare the code in the module's <App>ErrorCode enum"
    # Members too are named through their enum, never spelt out.
    assert literals == [], "use <App>ErrorCode.<NAME>, not the text"


def test_the_scan_sees_a_literal_code() -> None:
    tree = ast.parse(
        'raise Oops("x", code="made_up")\n'
        'class E:\n    code = "also_made_up"\n    code: str = f"x_{y}"\n'
        "ok = Oops(code=AppErrorCode.MADE_UP)\n"
    )
    values = [_code_value(node) for node in ast.walk(tree)]
    literals = [ast.unparse(value) for value in values if isinstance(value, ast.Constant)]

    assert sorted(literals) == ["'also_made_up'", "'made_up'"]
    assert any(isinstance(value, ast.JoinedStr) for value in values)
    assert any(isinstance(value, ast.Attribute) for value in values)


def _import_all() -> None:
    for module in pkgutil.walk_packages([str(ROOT)], prefix="tessera."):
        if ".tests" in module.name or ".migrations" in module.name:
            continue
        importlib.import_module(module.name)


def _subclasses(base: type[ApplicationError]) -> list[type[ApplicationError]]:
    found: list[type[ApplicationError]] = []
    for direct in base.__subclasses__():
        found += [direct, *_subclasses(direct)]
    return found


def test_every_error_class_takes_its_code_from_a_module_enum() -> None:
    _import_all()
    enums = set(error_code_enums())
    classes = [cls for cls in _subclasses(ApplicationError) if ".tests." not in cls.__module__]

    wrong = [cls.__qualname__ for cls in classes if type(cls.code) not in enums]

    assert len(classes) >= 60
    assert wrong == []


def test_each_module_declares_its_own_enum_in_its_errors_module() -> None:
    enums = {enum.__module__: enum.__name__ for enum in error_code_enums()}

    assert {
        "tessera.core.errors": "CoreErrorCode",
        "tessera.accounts.errors": "AccountsErrorCode",
        "tessera.capsules.errors": "CapsulesErrorCode",
        "tessera.content.errors": "ContentErrorCode",
        "tessera.files.errors": "FilesErrorCode",
        "tessera.notifications.errors": "NotificationsErrorCode",
        "tessera.tasks.errors": "TasksErrorCode",
        "tessera.payments.errors": "PaymentsErrorCode",
    }.items() <= enums.items()
    # Every installed app with an errors module declares exactly one enum there, named after
    # the app (products that are on add theirs: WalletErrorCode, EventsErrorCode).
    for module, name in enums.items():
        label = module.split(".")[1]
        assert module == f"tessera.{label}.errors"
        assert name == f"{label.capitalize()}ErrorCode"
    assert all(issubclass(enum, ErrorCode) for enum in error_code_enums())


def test_every_capsule_state_has_its_conflict_code() -> None:
    from tessera.capsules.errors import CapsulesErrorCode, CapsuleStateError
    from tessera.capsules.models import CapsuleState

    codes = {CapsuleStateError(state=state).code for state in CapsuleState.values}

    assert codes == {CapsulesErrorCode(f"capsule_{state}") for state in CapsuleState.values}


@pytest.mark.django_db
def test_the_schema_lists_every_code_as_the_enum_of_error_code() -> None:
    schema = tessera_api.get_openapi_schema()
    code = schema["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"]["properties"][
        "code"
    ]

    assert code["type"] == "string"
    assert code["enum"] == all_error_codes()
    for sample in ("not_found", "invalid_credentials", "capsule_sealed", "task_not_found"):
        assert sample in code["enum"]
    assert "test_route_full" not in code["enum"]  # a test API's own enum is not the product's


# --- One function renders every error -----------------------------------------------------


def _calls_named(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id in names)
            or (isinstance(node.func, ast.Attribute) and node.func.attr in names)
        )
    ]


def _error_envelopes(tree: ast.AST) -> list[ast.AST]:
    """Dict literals `{"status": "error", …}` and byte or text literals holding one."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            pairs = zip(node.keys, node.values, strict=True)
            if any(
                isinstance(key, ast.Constant)
                and key.value == "status"
                and isinstance(value, ast.Constant)
                and value.value == "error"
                for key, value in pairs
            ):
                found.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            if '"status":"error"' in text.replace(" ", ""):
                found.append(node)
    return found


def test_only_render_error_writes_an_error_reply() -> None:
    hand_built = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        if path != RENDERER:
            hand_built += [
                _where(path, call)
                for call in _calls_named(tree, {"error_payload", "error_response"})
            ]
        if path not in (RENDERER, ENVELOPE):
            hand_built += [_where(path, node) for node in _error_envelopes(tree)]

    assert hand_built == [], "raise an ApplicationError; tessera.core.api.handlers renders it"


def test_the_scan_sees_a_hand_built_envelope() -> None:
    tree = ast.parse(
        'body = {"status": "error", "error": {}}\n'
        'raw = b\'{"status":"error"}\'\n'
        "reply = envelope.error_payload(code=c, message=m)\n"
    )

    assert len(_error_envelopes(tree)) == 2
    assert len(_calls_named(tree, {"error_payload"})) == 1


def test_render_error_is_the_only_function_that_calls_error_payload() -> None:
    tree = ast.parse(RENDERER.read_text())
    callers = [
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and _calls_named(function, {"error_payload"})
    ]

    assert callers == ["render_error"]
