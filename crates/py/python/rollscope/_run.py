"""A whole run on this machine: ``rollscope run --json`` (the CLI's ``ops`` crate).

The listing and the reading are the library's, exactly as the CLI's: one folder (a
``--dump-details`` folder, or its ``rollout_data/`` whose sibling ``train_data/`` and
``tokenizer/`` are used too) lists its regular files and those of its ``rollout_data/``,
``train_data/`` and ``tokenizer/``, never through a symbolic link, and no FIFO, socket or
device; or a list of dump files, used as given. Dumps are read by the library on threads of
its own, with the GIL released, under the CLI's memory budget.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Tuple, Union

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


def run_table(dir_or_paths: Inputs, *, jobs: int = 0) -> Dict[str, Any]:
    """A whole run, ``rollscope run --json`` as a dict: ``{"rollouts": [...], "samples":
    [...]}`` with slime's metric names (one record per dump, one per sample of every dump).

    ``dir_or_paths``: a ``--dump-details`` folder, its ``rollout_data/`` folder, or dump
    files. Dumps are read ``jobs`` at a time (default: one per core), each streamed, with the
    train reads of all jobs under one memory budget. A dump that cannot be read is a record
    with ``error``; the run goes on.
    """
    return _rollscope.run_table(inputs_of(dir_or_paths), max(0, int(jobs)))
