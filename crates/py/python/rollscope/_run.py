"""A whole run on this machine: ``rollscope run --json`` (the CLI's ``ops`` crate).

The listing and the reading are the library's, exactly as the CLI's: one folder (a
``--dump-details`` folder, or its ``rollout_data/`` whose sibling ``train_data/`` and
``tokenizer/`` are used too) lists its regular files and those of its ``rollout_data/``,
``train_data/`` and ``tokenizer/``, never through a symbolic link, and no FIFO, socket or
device; or a list of dump files, used as given. Dumps are read by the library on threads of
its own, with the GIL released, under the CLI's memory budget.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _rollscope
from ._rollscope import DumpError

Inputs = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


def inputs_of(dir_or_paths: Inputs) -> List[str]:
    """One path, or a list of them, as strings."""
    if isinstance(dir_or_paths, (bytes, bytearray, memoryview)):
        # Elsewhere bytes are a dump's content; iterating them would give ints and a
        # TypeError that names neither.
        raise DumpError(
            "a run is a folder or a list of dump paths (str or os.PathLike), not bytes"
        )
    if isinstance(dir_or_paths, (str, os.PathLike)):
        return [os.fspath(dir_or_paths)]
    return [os.fspath(p) for p in dir_or_paths]


def list_run(dir_or_paths: Inputs, siblings: bool = True) -> Tuple[str, List[Tuple[str, int]]]:
    """The run's root and its files ``(relative path, size)``, sorted: the CLI's listing."""
    return _rollscope.list_run(inputs_of(dir_or_paths), siblings)


def merge(results: List[Tuple[Dict[str, Any], List[Dict[str, Any]]]]) -> Dict[str, Any]:
    """Per-dump ``(record, samples)`` in the layout's order into ``run --json``'s document."""
    return {
        "rollouts": [r for r, _ in results],
        "samples": [s for _, ss in results for s in ss],
    }


def options_json(
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> str:
    """slime's arguments a dump cannot tell (the CLI's ``--eval-names``, ``--reward-key``,
    ``--eval-reward-key``, ``--rollout-max-response-len``, ``--advantage-estimator``) as the
    library takes them."""
    return json.dumps(
        {
            "eval_names": list(eval_names or []),
            "reward_key": reward_key,
            "eval_reward_key": eval_reward_key,
            "rollout_max_response_len": rollout_max_response_len,
            "advantage_estimator": advantage_estimator,
        }
    )


def templates_json(
    save_debug_rollout_data: Optional[str] = None, save_debug_train_data: Optional[str] = None
) -> str:
    """slime's ``--save-debug-rollout-data`` / ``--save-debug-train-data`` templates as the
    library takes them."""
    return json.dumps({"rollout": save_debug_rollout_data, "train": save_debug_train_data})


def run_table(
    dir_or_paths: Optional[Inputs] = None,
    *,
    jobs: int = 0,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Dict[str, Any]:
    """A whole run, ``rollscope run --json`` as a dict: ``{"rollouts": [...], "samples":
    [...]}`` with slime's metric names (one record per dump, one per sample of every dump).

    ``dir_or_paths``: a ``--dump-details`` folder, its ``rollout_data/`` folder, or dump
    files (None: the folders of the ``save_debug_*`` templates). Dumps are read ``jobs`` at a
    time (default: one per core), each streamed, with the train reads of all jobs under one
    memory budget; train data is paired with its rollout by its payload's ``rollout_id``. A
    dump that cannot be read is a record with ``error``; the run goes on. What the listing
    left out or found odd (links, FIFOs, a second dump for one rollout) is under ``"notes"``
    when there is any. The keywords are slime's arguments of those names (``rollscope run
    --eval-names …``); a template without ``{rollout_id}`` in its file name raises
    ``DumpError`` naming the flag.
    """
    inputs = [] if dir_or_paths is None else inputs_of(dir_or_paths)
    return _rollscope.run_table(
        inputs,
        max(0, int(jobs)),
        options_json(
            eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
        ),
        templates_json(save_debug_rollout_data, save_debug_train_data),
    )


def compare_runs(
    a: Union[str, "os.PathLike[str]"],
    b: Union[str, "os.PathLike[str]"],
    *,
    align: str = "rollout_id",
    match: str = "index",
    jobs: int = 0,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Dict[str, Any]:
    """Two run folders side by side, ``rollscope run A B --json`` as a dict: ``{"a": {...},
    "b": {...}, "align", "match", "rollouts": [...], "samples": [...], "most_different":
    [...]}`` (``a`` and ``b`` are each :func:`run_table`'s document with its ``name``; every
    ``delta`` is B − A; see docs/cli.md, "Two runs").

    ``align``: ``"rollout_id"`` or ``"samples_seen"`` (dumps that trained on as many samples);
    ``match``: ``"index"`` (a replay of the same saved rollout) or ``"prompt"`` (the same
    prompt token ids). The other keywords are :func:`run_table`'s, for both runs.
    """
    return _rollscope.compare_runs(
        os.fspath(a),
        os.fspath(b),
        max(0, int(jobs)),
        align,
        match,
        options_json(
            eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
        ),
        templates_json(save_debug_rollout_data, save_debug_train_data),
    )


def follow(
    dir_or_paths: Optional[Inputs] = None,
    *,
    interval: float = 0.5,
    timeout: Optional[float] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Iterator[Dict[str, Any]]:
    """A run that is still being written, ``rollscope run DIR --follow --json`` as a generator:
    yields each dump's rollout record (an entry of :func:`run_table`'s ``"rollouts"``) once
    the dump is complete, in the run's order, each once (a rollout yielded before its train
    file landed is yielded once more with it; the later record replaces the earlier). The run
    is listed again every
    ``interval`` seconds (or four times as long as the last listing took, when that is more);
    a file ``torch.save`` has not finished is waited for, never an error, and a rollout of a
    run with train data waits for its train file (or a later rollout). Ends after ``timeout``
    seconds without a new dump (None: never; break out of the loop to stop). A folder with no
    dumps yet is waited for. The keywords are :func:`run_table`'s.
    """
    inputs = [] if dir_or_paths is None else inputs_of(dir_or_paths)
    follower = _rollscope.RunFollower(
        inputs,
        options_json(
            eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
        ),
        templates_json(save_debug_rollout_data, save_debug_train_data),
    )
    pause = max(0.05, float(interval))
    last = time.monotonic()
    while True:
        start = time.monotonic()
        records = follower.look()
        looked = time.monotonic() - start
        for r in records:
            yield r
        now = time.monotonic()
        if records:
            last = now
        elif timeout is not None and now - last >= timeout:
            return
        time.sleep(max(pause, 4 * looked))
