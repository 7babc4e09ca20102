"""A whole run on this machine: ``rollscope run --json`` (the CLI's ``host::run``).

The listing (:func:`list_run`) follows ``host::run::run_files`` rule for rule: one folder
(a ``--dump-details`` folder, or its ``rollout_data/`` whose sibling ``train_data/`` and
``tokenizer/`` are used too) lists the regular files (no symlinks, no dot files, UTF-8 names
only) directly in it and in its ``rollout_data/``, ``train_data/`` and ``tokenizer/``; or a
list of dump files, used as given. Which file is which is the library's ``layout``; each dump
is read by the library on a thread of its own with the GIL released.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _rollscope
from ._rollscope import DumpError

# host::run::MAX_FILES: most files listed in a run folder.
MAX_FILES = 300_000

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


def _os_error(e: OSError) -> str:
    # Rust's io::Error text, as the CLI prints it.
    if e.errno is not None and e.strerror:
        return f"{e.strerror} (os error {e.errno})"
    return str(e)


def _list(root: str, sub: str, out: List[Tuple[str, int]]) -> None:
    d = os.path.join(root, sub) if sub else os.path.join(root, "")
    try:
        entries = list(os.scandir(d or "."))
    except OSError as e:
        raise DumpError(f"{d}: {_os_error(e)}") from None
    for e in entries:
        name = e.name
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            continue  # not UTF-8 (the CLI skips it too)
        try:
            is_file = e.is_file(follow_symlinks=False)
            size = e.stat(follow_symlinks=False).st_size if is_file else 0
        except OSError as er:
            raise DumpError(f"{e.path}: {_os_error(er)}") from None
        if not is_file or name.startswith("."):
            continue
        if len(out) >= MAX_FILES:
            raise DumpError(f"{root}: more than {MAX_FILES} files")
        out.append((f"{sub}/{name}" if sub else name, size))


def list_run(dir_or_paths: Inputs, siblings: bool = True) -> Tuple[str, List[Tuple[str, int]]]:
    """The run's root and its files ``(relative path, size)``, sorted: the CLI's listing."""
    inputs = inputs_of(dir_or_paths)
    files: List[Tuple[str, int]] = []
    if len(inputs) == 1 and os.path.isdir(inputs[0]):
        d = inputs[0]
        if PurePath(d).name == "rollout_data" and siblings:
            root = str(PurePath(d).parent)
            _list(root, "rollout_data", files)
            for sub in ("train_data", "tokenizer"):
                if os.path.isdir(os.path.join(root, sub)):
                    _list(root, sub, files)
        else:
            root = d
            _list(root, "", files)
            for sub in ("rollout_data", "train_data", "tokenizer"):
                if os.path.isdir(os.path.join(root, sub)):
                    _list(root, sub, files)
    else:
        root = ""
        for f in inputs:
            try:
                st = os.stat(f)
            except OSError as e:
                raise DumpError(f"{f}: {_os_error(e)}") from None
            if not os.path.isfile(f):
                raise DumpError(f"{f}: not a file (give one run folder, or dump files)")
            files.append((f, st.st_size))
    files.sort()
    return root, files


def layout_of(paths: List[str], first_input: str) -> Dict[str, Any]:
    """The library's layout of the run's paths; no dumps at all is the CLI's error."""
    lay = _rollscope.layout(paths)
    if not lay["dumps"]:
        raise DumpError(
            f"{first_input}: no rollout dumps (expected rollout_data/{{id}}.pt as slime's "
            "--dump-details writes)"
        )
    return lay


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


def run_table(
    dir_or_paths: Inputs,
    *,
    jobs: int = 0,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> Dict[str, Any]:
    """A whole run, ``rollscope run --json`` as a dict: ``{"rollouts": [...], "samples":
    [...]}`` with slime's metric names (one record per dump, one per sample of every dump).

    ``dir_or_paths``: a ``--dump-details`` folder, its ``rollout_data/`` folder, or dump
    files. Dumps are read ``jobs`` at a time (default: one per core), each streamed, so memory
    is about one dump's reader per thread. A dump that cannot be read is a record with
    ``error``; the run goes on. ``eval_names`` (slime's eval datasets in config order) names
    eval sets a dump does not name; ``reward_key``, ``eval_reward_key`` and
    ``rollout_max_response_len`` and ``advantage_estimator`` are slime's arguments of those
    names.
    """
    options = options_json(
        eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
    )
    inputs = inputs_of(dir_or_paths)
    root, files = list_run(inputs)
    lay = layout_of([p for p, _ in files], inputs[0] if inputs else "")
    dumps = lay["dumps"]
    has_train = any(d.get("train_file") for d in dumps)

    def one(d: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
        train = d.get("train_file")
        return _rollscope.summarize_dump(
            os.path.join(root, d["file"]),
            d,
            has_train,
            os.path.join(root, train) if train else None,
            options=options,
        )

    threads = max(1, min(jobs or os.cpu_count() or 2, len(dumps)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return merge(list(pool.map(one, dumps)))
