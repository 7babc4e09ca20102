"""rollscope: a fast reader for slime rollout dumps (``rollout_<id>.pt``), with no torch.

Each function is a thin call into the same Rust library as the ``rollscope`` command line, so
its result equals the CLI's output; the GIL is released while a dump is read.

    >>> import rollscope
    >>> s = rollscope.stats("rollout_0.pt")          # == rollscope stats --json
    >>> s["perf/request/e2e_latency/mean"]
    >>> rows = rollscope.samples("rollout_0.pt")     # one dict per sample
    >>> run = rollscope.run_table("dump_details/")   # == rollscope run --json
    >>> pair = rollscope.compare_runs("run_a/", "run_b/")  # == rollscope run A B --json
    >>> for r in rollscope.follow("dump_details/"): ...    # == rollscope run DIR --follow --json

A file that cannot be read raises :class:`DumpError` (a ``ValueError``) with the CLI's message.
Warnings about single samples (the CLI's ``warning:`` lines) are issued as
:class:`DumpWarning` through :mod:`warnings`. ``rollscope.ray`` maps a run over Ray Data.
"""

from __future__ import annotations

import json
import os
import warnings as _warnings
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _rollscope
from ._rollscope import DumpError
from ._run import compare_runs, follow, list_run, options_json, run_table

__all__ = [
    "DumpError",
    "DumpWarning",
    "stats",
    "cache",
    "samples",
    "summary",
    "run_table",
    "compare_runs",
    "follow",
    "export",
    "list_run",
    "__version__",
]

__version__ = _rollscope.__version__

PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


class DumpWarning(UserWarning):
    """A problem with part of a dump (one sample, one span) that did not stop the read."""


def _src(path_or_bytes: Any) -> Any:
    """bytes stay bytes (read in place); bytearray/memoryview are copied once; else a path."""
    if isinstance(path_or_bytes, bytes):
        return path_or_bytes
    if isinstance(path_or_bytes, (bytearray, memoryview)):
        return bytes(path_or_bytes)
    return os.fspath(path_or_bytes)


def _warn(lines: List[str]) -> None:
    for w in lines:
        _warnings.warn(w, DumpWarning, stacklevel=3)


def stats(
    path_or_bytes: PathOrBytes,
    *,
    e2e_p99: float = _rollscope.DEFAULT_THRESHOLDS["e2e_p99"],
    queue_p99: float = _rollscope.DEFAULT_THRESHOLDS["queue_p99"],
    failed_share: float = _rollscope.DEFAULT_THRESHOLDS["failed_share"],
    decode_min: float = _rollscope.DEFAULT_THRESHOLDS["decode_min"],
    name: str = "<bytes>",
) -> Dict[str, Any]:
    """The rollout's performance picture: ``rollscope stats --json`` as a dict.

    slime's metrics under slime's exact names, then rollscope's own under ``rollscope/``.
    The thresholds are the CLI's health thresholds (``--e2e-p99`` etc.), with the same
    defaults (``rollscope._rollscope.DEFAULT_THRESHOLDS``, from the Rust core). ``name`` names bytes
    input in messages.
    """
    flat, warns = _rollscope.stats(
        _src(path_or_bytes),
        float(e2e_p99),
        float(queue_p99),
        float(failed_share),
        float(decode_min),
        name,
    )
    _warn(warns)
    return flat


def cache(path_or_bytes: PathOrBytes, *, name: str = "<bytes>") -> Dict[str, Any]:
    """slime's timeline cache (v1) of a dump, as ``rollscope cache -o -`` writes it."""
    text, warns = _rollscope.cache(_src(path_or_bytes), name)
    _warn(warns)
    return json.loads(text)


def export(path_or_bytes: PathOrBytes, format: str, *, name: str = "<bytes>") -> str:
    """The traces as JSON text: ``format="chrome"`` (Trace Event Format: Perfetto,
    chrome://tracing) or ``"otlp"`` (OTLP/JSON), as ``rollscope export`` writes them."""
    return _rollscope.export(_src(path_or_bytes), format, name)


def _one(
    path_or_bytes: PathOrBytes,
    train: Optional[PathOrBytes],
    name: Optional[str],
    options: Optional[str] = None,
) -> Any:
    src = _src(path_or_bytes)
    if name is None:
        name = src if isinstance(src, str) else "dump.pt"
    dumps = _rollscope.layout([name])["dumps"]
    if not dumps:
        raise DumpError(f"{name}: not a rollout dump name (expected <name>.pt)")
    dump = dict(dumps[0])
    if train is not None:
        dump["train_file"] = train if isinstance(train, str) else "train_data"
    has_train = train is not None
    record, rows = _rollscope.summarize_dump(
        src, dump, has_train, None if train is None else _src(train), options=options
    )
    if train is not None and record.get("error") is None:
        # A train file the caller named but that could not be read at all (missing, a
        # folder, not a train dump) is the caller's error, not a run's missing data: the
        # library notes it as "<train_file>: <why>" and leaves every sample without train
        # fields. (A partial train dump's note ends "samples have no train data".)
        prefix = f"{dump['train_file']}: "
        failed = [
            n
            for n in record.get("notes") or []
            if n.startswith(prefix) and not n.endswith("samples have no train data")
        ]
        if failed and all(r.get("train/rollout_position") is None for r in rows):
            raise DumpError(failed[0])
    return record, rows


def samples(
    path_or_bytes: PathOrBytes,
    *,
    train: Optional[PathOrBytes] = None,
    name: Optional[str] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """One record per sample of a dump: the ``samples`` records of ``rollscope run --json``
    (reward, lengths, status, text sizes and hash, and with ``train`` (its
    ``train_data/{id}.pt``) the train-side fields). The rollout id comes from the file name
    (``name`` for bytes; the last number in it). The slime keywords are :func:`run_table`'s."""
    options = options_json(
        eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
    )
    record, rows = _one(path_or_bytes, train, name, options)
    if record.get("error") is not None:
        raise DumpError(f"{record.get('file')}: {record['error']}")
    return rows


def summary(
    path_or_bytes: PathOrBytes,
    *,
    train: Optional[PathOrBytes] = None,
    name: Optional[str] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> Dict[str, Any]:
    """A dump's ``rollouts`` record of ``rollscope run --json``: slime's per-rollout metrics
    (``reward/mean``, ``rollout/…``, ``perf/…``, ``pass_rate``, or an eval's ``eval/…``). The
    slime keywords are :func:`run_table`'s."""
    options = options_json(
        eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
    )
    record, _ = _one(path_or_bytes, train, name, options)
    if record.get("error") is not None:
        raise DumpError(f"{record.get('file')}: {record['error']}")
    return record
