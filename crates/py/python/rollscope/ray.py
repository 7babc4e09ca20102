"""A run's table on Ray Data: one task per dump, files read through pyarrow filesystems.

    >>> import ray, rollscope.ray
    >>> ray.init()                                        # or an existing cluster
    >>> run = rollscope.ray.run_table("s3://bucket/run")  # == rollscope.run_table on a copy
    >>> rollscope.ray.write_parquet("s3://bucket/run", "s3://bucket/run_table")

The run folder is listed by the driver with the library's rule, the one of
:func:`rollscope.run_table` (``rollscope run``): the driver hands over the directory entries
its pyarrow filesystem gives, and the library keeps the run's files (a ``--dump-details``
folder, its ``rollout_data/`` with the sibling ``train_data/``, or a list of dump files) and
says which file is which.
Each dump (with its train data) then becomes one row of a Ray Dataset, mapped by one task that
reads the bytes through the pyarrow filesystem (``s3://``, ``hdfs://``, ``gs://``, local
paths; or the ``filesystem=`` given) and summarises them with the same library call as the
local ``run_table``; the driver merges the records in the layout's order. So the result
equals ``rollscope.run_table`` on the same files. Memory per task: one dump's bytes and its
reader.

One difference from the local listing: pyarrow's local filesystem reports what a symbolic
link points to, so a link is listed as its target; remote stores have no links.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _rollscope
from ._rollscope import DumpError
from ._run import Inputs, inputs_of, merge, options_json, templates_json
from .parquet import _fs_for
from . import parquet as _parquet

__all__ = ["run_table", "write_parquet", "list_run"]


def _resolve(path: str, filesystem: Any) -> Tuple[Any, str]:
    if filesystem is not None:
        return filesystem, path
    return _fs_for(path)


def _entries(fs: Any, d: str) -> Optional[List[Tuple[str, str, int]]]:
    """The entries of the folder ``d`` as the library's listing takes them, or None when it
    is not a folder."""
    import pyarrow.fs as pafs

    if fs.get_file_info(d).type != pafs.FileType.Directory:
        return None
    try:
        infos = fs.get_file_info(pafs.FileSelector(d, recursive=False))
    except OSError as e:
        raise DumpError(f"{d}: {e}") from None
    kinds = {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}
    return [(i.base_name, kinds.get(i.type, "other"), i.size or 0) for i in infos]


def list_run(dir_or_paths: Inputs, *, filesystem: Any = None):
    """The run's files through pyarrow: ``(files, where)`` with ``files`` the sorted
    ``(path, size)`` the library's listing keeps and ``where[path] = (filesystem, path on
    it)``. Which entries make the run is the library's rule (the CLI's)."""
    files, where, _ = _list_run(dir_or_paths, filesystem, None)
    return files, where


def _list_run(dir_or_paths: Inputs, filesystem: Any, templates: Optional[str]):
    """:func:`list_run` and the library's layout of the files."""
    import pyarrow.fs as pafs

    inputs = inputs_of(dir_or_paths)
    where: Dict[str, Tuple[Any, str]] = {}
    first = _resolve(inputs[0], filesystem) if inputs else None
    if len(inputs) == 1 and first[0].get_file_info(first[1]).type == pafs.FileType.Directory:
        fs, d = first
        d = d.rstrip("/") or "/"
        name = d.rsplit("/", 1)[-1]
        # The library says whether the run's root is the folder or its parent (the folder
        # being a rollout_data/ whose siblings are used too).
        if _rollscope.root_is_parent(name, True):
            root = d.rsplit("/", 1)[0] if "/" in d else "."
        else:
            root = d
        _, files, lay = _rollscope.list_folder(
            name,
            inputs[0],
            True,
            lambda sub: _entries(fs, f"{root}/{sub}" if sub else root),
            templates,
        )
        for rel, _ in files:
            where[rel] = (fs, f"{root}/{rel}")
        return files, where, lay
    given = []
    for f in inputs:
        fs, p = _resolve(f, filesystem)
        info = fs.get_file_info(p)
        if info.type == pafs.FileType.NotFound:
            raise DumpError(f"{f}: not found")
        given.append((f, "file" if info.type == pafs.FileType.File else "other", info.size or 0))
        where[f] = (fs, p)
    files, lay = _rollscope.list_given(given, templates)
    return files, where, lay


def _read(fs: Any, path: str) -> bytes:
    with fs.open_input_stream(path) as f:
        return f.readall()


def _summarize(item: Dict[str, Any], filesystems: List[Any]) -> Dict[str, Any]:
    """One Ray task: one dump (and its train data) read through its filesystem."""
    fs = filesystems[item["fs"]]
    dump = json.loads(item["dump"])
    data: Optional[bytes] = None
    src_error = None
    try:
        data = _read(fs, item["path"])
    except OSError as e:
        src_error = str(e)
    train = None
    train_error = None
    if item["train"] and src_error is None:
        tfs = filesystems[item["train_fs"]]
        try:
            train = _read(tfs, item["train"])
        except OSError as e:
            train_error = str(e)
    record, samples = _rollscope.summarize_dump(
        data if data is not None else b"",
        dump,
        item["has_train"],
        train,
        train_error,
        src_error,
        options=item["options"],
    )
    return {"i": item["i"], "rollout": json.dumps(record), "samples": json.dumps(samples)}


def _train_id(item: Dict[str, Any], filesystems: List[Any]) -> Dict[str, Any]:
    """One Ray task: the rollout id a train file's payload names (None: none, or unreadable)."""
    try:
        data = _read(filesystems[item["fs"]], item["path"])
    except OSError:
        return {"i": item["i"], "id": None}
    return {"i": item["i"], "id": _rollscope.train_rollout_id(data)}


def _paired(
    lay: Dict[str, Any],
    where: Dict[str, Tuple[Any, str]],
    fs_index: Any,
    filesystems: List[Any],
) -> Any:
    """The layout with its train data paired by the payloads' ``rollout_id`` (one Ray task per
    train file; the library pairs, as for :func:`rollscope.run_table`)."""
    import ray

    train = lay.get("train") or []
    if not train:
        return lay
    items = []
    for i, (_, t) in enumerate(train):
        fs, path = where[t]
        items.append({"i": i, "fs": fs_index(fs), "path": path})
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    got = {r["i"]: r["id"] for r in ds.map(lambda it: _train_id(it, filesystems)).take_all()}
    ids = [(t, got.get(i) if got.get(i) is not None else n) for i, (n, t) in enumerate(train)]
    return _rollscope.pair_train(lay, ids)


def run_table(
    dir_or_paths: Optional[Inputs] = None,
    *,
    filesystem: Any = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Dict[str, Any]:
    """:func:`rollscope.run_table` on Ray Data: one task per dump, files read through
    ``filesystem`` (default: ``pyarrow.fs.FileSystem.from_uri`` of each path; plain paths are
    local). Starts Ray with its defaults when it is not running yet. The slime keywords are
    :func:`rollscope.run_table`'s (with templates, give the run folder or files too)."""
    import ray

    options = options_json(
        eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
    )
    templates = templates_json(save_debug_rollout_data, save_debug_train_data)
    if not ray.is_initialized():
        ray.init()
    files, where, lay = _list_run(dir_or_paths or [], filesystem, templates)
    filesystems: List[Any] = []

    def fs_index(fs: Any) -> int:
        for i, f in enumerate(filesystems):
            if f is fs:
                return i
        filesystems.append(fs)
        return len(filesystems) - 1

    paired = _paired(lay, where, fs_index, filesystems)
    records = _summaries(paired, where, fs_index, filesystems, options)
    # A file taken for a rollout dump by its name that is slime's train payload by its keys:
    # the library's rule moves it to the train data; the run is paired and read again.
    again = _rollscope.retake_train(lay, [(r.get("file"), r.get("error")) for r, _ in records])
    if again is not None:
        paired = _paired(again, where, fs_index, filesystems)
        records = _summaries(paired, where, fs_index, filesystems, options)
    doc = merge(records)
    # As `rollscope run --json`: what the listing (and the pairing by payload) left out or
    # found odd, only when any.
    notes = list(paired.get("notes") or [])
    if notes:
        doc["notes"] = notes
    return doc


def _summaries(
    lay: Dict[str, Any],
    where: Dict[str, Tuple[Any, str]],
    fs_index: Any,
    filesystems: List[Any],
    options: str,
) -> List[Tuple[Dict[str, Any], List[Any]]]:
    """Every dump of a paired layout summarised, one Ray task each, in the layout's order."""
    import ray

    dumps = lay["dumps"]
    has_train = bool(lay.get("train"))
    items = []
    for i, d in enumerate(dumps):
        fs, path = where[d["file"]]
        t = d.get("train_file")
        tfs, tpath = where[t] if t else (fs, "")
        items.append(
            {
                "i": i,
                "dump": json.dumps(d),
                "fs": fs_index(fs),
                "path": path,
                "train_fs": fs_index(tfs),
                "train": tpath,
                "has_train": has_train,
                "options": options,
            }
        )
    if not items:
        return []
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    rows = ds.map(lambda item: _summarize(item, filesystems)).take_all()
    rows.sort(key=lambda r: r["i"])
    return [(json.loads(r["rollout"]), json.loads(r["samples"])) for r in rows]

def write_parquet(
    dir_or_paths: Inputs,
    out: str,
    *,
    filesystem: Any = None,
    out_filesystem: Any = None,
) -> Dict[str, str]:
    """:func:`run_table` on Ray, written as ``out/rollouts.parquet`` and
    ``out/samples.parquet`` (schema: :mod:`rollscope.parquet`). ``out`` is a local folder or a
    URI (or a path on ``out_filesystem``). Returns the two paths."""
    return _parquet.write(run_table(dir_or_paths, filesystem=filesystem), out, filesystem=out_filesystem)
