"""Every shell example in README.md runs, verbatim, against a live system (issue 13, item 16).

How it works (docs/decisions/0016-readme-examples-are-tests.md):

- Every fenced block that opens with three backticks and `sh` is an example. They run in the
  order of the README, each in a fresh `bash` with `set -euo pipefail`, from the repository
  root, so a block must stand alone: it signs in again and names its own variables, as a
  reader jumping to that section would need to.
- The system runs as `make run` starts it (`scripts/run.py`: web, worker, scheduler, demo
  data) in a var directory of the test's own, on a free port. The one change made to a
  block is that port: `localhost:8000` and `127.0.0.1:8000` become `127.0.0.1:<port>`.
  Write examples for `make run`'s defaults and they run here unchanged. The blocks see
  the system's environment (`TESSERA_VAR_DIR` among it), so `manage.py` commands in them
  (`manage.py outbox --to … --code` for a texted or emailed code) read the same database.
- The examples run from one address far more often than a person would, so the system runs
  with `RATE_LIMIT_ENABLED=false` (per-address limits; the per-number code limits and
  lock-outs stay on: use a phone number or email address of the block's own).
- A block fails the test when it exits non-zero (a curl that cannot connect, `jq -e` finding
  nothing, any command failing) or when it prints an error envelope (`"status": "error"`);
  the failure shows the block, where it is in the README, and its output.
- A block that must not run says so in an HTML comment on the line just above its fence,
  which a reader of the rendered README does not see: `<!-- not run: <reason> -->` (the
  reason is required). Each such block is reported as a skipped test with its reason.
  `<!-- error expected: <reason> -->` runs the block but allows error envelopes in its
  output (its exit status still counts), for an example that shows a refusal.
- Examples use `jq`; without it (locally) the test is skipped saying so; CI installs it.
- Other shell fences (`bash`, `shell`, `console`) are refused: an example is `sh` so it is
  run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.system import BANNER, EMBEDDED, ROOT, RunningSystem, Setup, free_port

README = ROOT / "README.md"
BLOCK_TIMEOUT = float(os.environ.get("README_BLOCK_TIMEOUT", "180"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DIRECTIVE = re.compile(r"^<!--\s*(not run|error expected):\s*(.*?)\s*-->$")
FENCE = re.compile(r"^```(\S*)\s*$")
DEFAULT_BASE = re.compile(r"(?:localhost|127\.0\.0\.1):8000(?!\d)")
ERROR_ENVELOPE = re.compile(r'"status"\s*:\s*"error"')
OTHER_SHELLS = {"bash", "shell", "console", "zsh", "shell-session"}


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    code: str
    directive: str  # "", "not run" or "error expected"
    reason: str

    @property
    def where(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks(text: str) -> tuple[list[Block], list[str]]:
    """The `sh` blocks in order, and the problems found (other shells, empty reasons)."""
    blocks: list[Block] = []
    problems: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        language, start = fence.group(1), index
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("```")), len(lines)
        )
        if language in OTHER_SHELLS:
            problems.append(f"README.md:{start + 1}: a ```{language} block: make it ```sh")
        if language == "sh":
            previous = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
            found = DIRECTIVE.match(previous.strip())
            directive, reason = (found.group(1), found.group(2)) if found else ("", "")
            if found and not reason:
                problems.append(f"README.md:{start + 1}: `<!-- {directive}: -->` needs a reason")
            code = "\n".join(lines[start + 1 : end]) + "\n"
            blocks.append(Block(line=start + 1, code=code, directive=directive, reason=reason))
        index = end + 1
    return blocks, problems


BLOCKS, PROBLEMS = readme_blocks(README.read_text(encoding="utf-8"))
SKIPPED = [block for block in BLOCKS if block.directive == "not run"]


def test_every_shell_example_is_an_sh_block_and_every_skip_has_a_reason() -> None:
    assert PROBLEMS == []
    assert [block for block in BLOCKS if block.directive != "not run"], "no example runs"


@pytest.mark.parametrize("block", SKIPPED, ids=[block.where for block in SKIPPED])
def test_readme_block_not_run(block: Block) -> None:
    """Listed, with its reason, among the skipped tests of every run."""
    pytest.skip(f"{block.where} not run: {block.reason}")


def with_port(code: str, port: int) -> str:
    return DEFAULT_BASE.sub(f"127.0.0.1:{port}", code)


def run_block(block: Block, port: int, env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + with_port(block.code, port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BLOCK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        output = timeout.output or ""
        text = output if isinstance(output, str) else output.decode(errors="replace")
        return -1, text + f"\n(timed out after {BLOCK_TIMEOUT:.0f} s)", BLOCK_TIMEOUT
    return result.returncode, result.stdout, time.monotonic() - started


def block_problem(block: Block, exit_code: int, output: str) -> str | None:
    """What is wrong with a block's run, or None."""
    if exit_code != 0:
        return f"exited with {exit_code}"
    if block.directive != "error expected" and ERROR_ENVELOPE.search(output):
        return "printed an error reply"
    return None


def failure(block: Block, port: int, why: str, output: str, setup: Setup = EMBEDDED) -> str:
    return (
        f"The example at {block.where} {why} (make run on {setup.name}).\n"
        f"--- the block (port 8000 → {port}) ---\n{with_port(block.code, port)}"
        f"--- its output ---\n{output[-6000:]}"
    )


@pytest.fixture
def jq() -> None:
    if shutil.which("jq") is None:
        message = "jq is not installed: the README's examples use it (apt-get install jq)"
        if IN_CI:
            pytest.fail(message + " [required with CI=true; .ci/run installs it]")
        pytest.skip(message)


@pytest.mark.slow
@pytest.mark.services_e2e
def test_every_readme_example_runs(jq: None, make_run_setup: Setup, tmp_path: Path) -> None:
    port = free_port()
    system = RunningSystem(tmp_path / "var", port, make_run_setup, RATE_LIMIT_ENABLED="false")
    try:
        system.wait_for(BANNER, "the system the README's examples run against")
        # Files the examples make (mktemp) go to the test's own directory, removed after.
        scratch = tmp_path / "tmp"
        scratch.mkdir()
        env = {
            **system.env,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "TMPDIR": str(scratch),
        }
        for block in BLOCKS:
            if block.directive == "not run":
                continue
            code, output, _seconds = run_block(block, port, env)
            problem = block_problem(block, code, output)
            if problem is not None:
                pytest.fail(failure(block, port, problem, output, make_run_setup), pytrace=False)
        system.stop()
        system.check_setup()
    finally:
        system.stop()


SAMPLE = """Intro.

```sh
curl -s localhost:8000/health/
```

<!-- not run: needs sudo -->
```sh
sudo make install
```

<!-- error expected: shows the refusal -->

```sh
curl -s http://127.0.0.1:8000/api/nope
```

```bash
echo not an example
```

<!-- not run: -->
```sh
true
```

```json
{"status": "error"}
```
"""


def test_the_blocks_and_their_directives_are_read_from_the_readme() -> None:
    blocks, problems = readme_blocks(SAMPLE)

    assert [(b.line, b.directive, b.reason) for b in blocks] == [
        (3, "", ""),
        (8, "not run", "needs sudo"),
        (14, "error expected", "shows the refusal"),
        (23, "not run", ""),
    ]
    assert blocks[0].code == "curl -s localhost:8000/health/\n"
    assert problems == [
        "README.md:18: a ```bash block: make it ```sh",
        "README.md:23: `<!-- not run: -->` needs a reason",
    ]


def test_only_the_default_port_is_rewritten() -> None:
    code = "curl localhost:8000/a http://127.0.0.1:8000/b 127.0.0.1:80001 localhost:9000\n"

    assert with_port(code, 18234) == (
        "curl 127.0.0.1:18234/a http://127.0.0.1:18234/b 127.0.0.1:80001 localhost:9000\n"
    )


def test_a_block_fails_on_its_exit_status_or_an_error_reply() -> None:
    plain = Block(line=1, code="", directive="", reason="")
    refusal = Block(line=1, code="", directive="error expected", reason="a 409")
    env = {"PATH": os.environ["PATH"]}
    failing = Block(line=1, code="true\nfalse\ntrue\n", directive="", reason="")
    piped = Block(line=1, code="false | cat\n", directive="", reason="")

    assert block_problem(plain, *run_block(failing, 1, env)[:2]) == "exited with 1"
    assert block_problem(plain, *run_block(piped, 1, env)[:2]) == "exited with 1"  # pipefail
    error = '{"status": "error", "error": {"code": "conflict"}}'
    assert block_problem(plain, 0, error) == "printed an error reply"
    assert block_problem(plain, 0, '{"status":"error"}') == "printed an error reply"
    assert block_problem(refusal, 0, error) is None
    assert block_problem(plain, 0, '{"status": "success"}') is None
