"""Shared paths and helpers. The CLI (`target/debug/rollscope`, or $ROLLSCOPE_BIN) is the
reference the package is compared with; `cargo xtask test` builds it first and sets
ROLLSCOPE_REQUIRE_CLI=1, so a missing binary fails there instead of skipping."""

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(os.environ.get("ROLLSCOPE_FIXTURES", ROOT / "tests" / "fixtures"))
RUN = FIXTURES / "run"
SLIME = sorted((FIXTURES / "slime").glob("*.pt"))
CLI = Path(os.environ.get("ROLLSCOPE_BIN", ROOT / "target" / "debug" / "rollscope"))


def cli(*args):
    """Runs the CLI; stdout parsed as JSON."""
    if not CLI.exists():
        if os.environ.get("ROLLSCOPE_REQUIRE_CLI"):
            pytest.fail(f"{CLI} is missing (cargo build -p host)")
        pytest.skip(f"{CLI} is missing (cargo build -p host)")
    out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout)


def cli_error(*args):
    """Runs the CLI expecting failure; its one-line message without `error: `."""
    if not CLI.exists():
        pytest.skip(f"{CLI} is missing")
    out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, timeout=120)
    assert out.returncode != 0
    return out.stderr.decode(errors="replace").strip().splitlines()[-1].removeprefix("error: ")


def diff(ref, ours, rel, path=""):
    """Where `ours` differs from `ref`: same keys, equal non-numbers, numbers within `rel`
    relative. One line per difference (written here, independently of the package)."""
    out = []
    if isinstance(ref, dict) and isinstance(ours, dict):
        for k in ref:
            if k not in ours:
                out.append(f"{path}.{k}: missing")
            else:
                out += diff(ref[k], ours[k], rel, f"{path}.{k}")
        out += [f"{path}.{k}: extra" for k in ours if k not in ref]
    elif isinstance(ref, list) and isinstance(ours, list):
        if len(ref) != len(ours):
            out.append(f"{path}: {len(ref)} items, ours {len(ours)}")
        else:
            for i, (a, b) in enumerate(zip(ref, ours)):
                out += diff(a, b, rel, f"{path}[{i}]")
    elif (
        isinstance(ref, (int, float))
        and isinstance(ours, (int, float))
        and not isinstance(ref, bool)
        and not isinstance(ours, bool)
    ):
        if not math.isclose(ref, ours, rel_tol=rel, abs_tol=1e-12):
            out.append(f"{path}: reference {ref}, ours {ours}")
    elif ref != ours or type(ref) is not type(ours):
        out.append(f"{path}: reference {ref!r}, ours {ours!r}")
    return out
