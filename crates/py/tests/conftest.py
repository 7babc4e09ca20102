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
RUN_FLAT = FIXTURES / "run_flat"
RUN_REPLAY = FIXTURES / "run_replay"
SLIME = sorted((FIXTURES / "slime").glob("*.pt"))
CLI = Path(os.environ.get("ROLLSCOPE_BIN", ROOT / "target" / "debug" / "rollscope"))


def need_cli():
    """Skips when the CLI is missing, or fails under ROLLSCOPE_REQUIRE_CLI."""
    if not CLI.exists():
        if os.environ.get("ROLLSCOPE_REQUIRE_CLI"):
            pytest.fail(f"{CLI} is missing (cargo build -p host)")
        pytest.skip(f"{CLI} is missing (cargo build -p host)")


def cli(*args):
    """Runs the CLI; stdout parsed as JSON."""
    need_cli()
    out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout)


def cli_error(*args):
    """Runs the CLI expecting failure; its one-line message without `error: `."""
    need_cli()
    out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, timeout=120)
    assert out.returncode != 0
    return out.stderr.decode(errors="replace").strip().splitlines()[-1].removeprefix("error: ")


def diff(ref, ours, rel, path="", abs_tol=1e-12):
    """Where `ours` differs from `ref`: same keys, equal non-numbers, numbers within `rel`
    relative. One line per difference (written here, independently of the package)."""
    out = []
    if isinstance(ref, dict) and isinstance(ours, dict):
        for k in ref:
            if k not in ours:
                out.append(f"{path}.{k}: missing")
            else:
                out += diff(ref[k], ours[k], rel, f"{path}.{k}", abs_tol)
        out += [f"{path}.{k}: extra" for k in ours if k not in ref]
    elif isinstance(ref, list) and isinstance(ours, list):
        if len(ref) != len(ours):
            out.append(f"{path}: {len(ref)} items, ours {len(ours)}")
        else:
            for i, (a, b) in enumerate(zip(ref, ours)):
                out += diff(a, b, rel, f"{path}[{i}]", abs_tol)
    elif (
        isinstance(ref, (int, float))
        and isinstance(ours, (int, float))
        and not isinstance(ref, bool)
        and not isinstance(ours, bool)
    ):
        if not math.isclose(ref, ours, rel_tol=rel, abs_tol=abs_tol):
            out.append(f"{path}: reference {ref}, ours {ours}")
    elif ref != ours or type(ref) is not type(ours):
        out.append(f"{path}: reference {ref!r}, ours {ours!r}")
    return out


# Keys the `run` fixture's reference predates (slime's train-side metrics, the per-sample
# masked means, the eval set's index); its `eval_datasets` is a plain list of names.
NEWER_SAMPLE_KEYS = {
    "eval_dataset_index",
    "train/advantage_masked_mean",
    "train/kl_masked_mean",
    "train/train_rollout_logprob_abs_diff",
}
ROLLOUT_SIDE = ("rollout/response_len/", "rollout/zero_std/")
ROLLOUT_SIDE_KEYS = {
    "rollout/truncated_ratio",
    "rollout/repetition_frac",
    "rollout/prefix_cache_hit_rate",
    "rollout/avg_cached_tokens_per_sample",
}


def older(doc):
    """`doc` as a reference written before the train-side keys (see NEWER_SAMPLE_KEYS)."""

    def newer(k):
        if k in NEWER_SAMPLE_KEYS or k.startswith(("multi_turn/", "passrate/")):
            return True
        return (
            k.startswith("rollout/")
            and not k.startswith(ROLLOUT_SIDE)
            and k not in ROLLOUT_SIDE_KEYS
        )

    out = {}
    for part in ("rollouts", "samples"):
        out[part] = []
        for r in doc[part]:
            r = {k: v for k, v in r.items() if not newer(k)}
            if "eval_datasets" in r:
                r["eval_datasets"] = [d["name"] for d in r["eval_datasets"]]
            out[part].append(r)
    return out
