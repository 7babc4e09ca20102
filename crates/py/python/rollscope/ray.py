"""A run's table on Ray Data: one task per dump, files read through pyarrow filesystems.

    >>> import ray, rollscope.ray
    >>> ray.init()                                        # or an existing cluster
    >>> run = rollscope.ray.run_table("s3://bucket/run")  # == rollscope.run_table on a copy
    >>> rollscope.ray.write_parquet("s3://bucket/run", "s3://bucket/run_table")

The run folder is listed by the driver with the same rules as :func:`rollscope.run_table`
(``rollscope run``): a ``--dump-details`` folder, its ``rollout_data/`` (with the sibling
``train_data/``), or a list of dump files; which file is which is the library's ``layout``.
Each dump (with its train data) then becomes one row of a Ray Dataset, mapped by one task that
reads the bytes through the pyarrow filesystem (``s3://``, ``hdfs://``, ``gs://``, local
paths; or the ``filesystem=`` given) and summarises them with the same library call as the
local ``run_table``; the driver merges the records in the layout's order. So the result
equals ``rollscope.run_table`` on the same files. Memory per task: one dump's bytes and its
reader.

One difference from the local listing: pyarrow's local filesystem follows symbolic links,
where the CLI skips them.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _rollscope
from ._rollscope import DumpError
from ._run import MAX_FILES, Inputs, inputs_of, layout_of, merge, options_json
from .parquet import _fs_for
from . import parquet as _parquet

__all__ = ["run_table", "write_parquet", "list_run"]


def _resolve(path: str, filesystem: Any) -> Tuple[Any, str]:
    if filesystem is not None:
        return filesystem, path
    return _fs_for(path)


def _list(fs: Any, root: str, sub: str, out: List[Tuple[str, int]]) -> None:
    import pyarrow.fs as pafs

    d = f"{root.rstrip('/')}/{sub}" if sub else root
    try:
        infos = fs.get_file_info(pafs.FileSelector(d, recursive=False))
    except OSError as e:
        raise DumpError(f"{d}: {e}") from None
    for info in infos:
        name = info.base_name
        if info.type != pafs.FileType.File or name.startswith("."):
            continue
        if len(out) >= MAX_FILES:
            raise DumpError(f"{root}: more than {MAX_FILES} files")
        out.append((f"{sub}/{name}" if sub else name, info.size or 0))


def list_run(dir_or_paths: Inputs, *, filesystem: Any = None):
    """The run's files through pyarrow: ``(files, where)`` with ``files`` the sorted
    ``(path, size)`` the layout sees and ``where[path] = (filesystem, path on it)``."""
    import pyarrow.fs as pafs

    inputs = inputs_of(dir_or_paths)
    files: List[Tuple[str, int]] = []
    where: Dict[str, Tuple[Any, str]] = {}
    first = _resolve(inputs[0], filesystem) if inputs else None
    if len(inputs) == 1 and first[0].get_file_info(first[1]).type == pafs.FileType.Directory:
        fs, d = first
        is_dir = lambda p: fs.get_file_info(p).type == pafs.FileType.Directory
        d = d.rstrip("/") or "/"
        if d.rsplit("/", 1)[-1] == "rollout_data":
            root = d.rsplit("/", 1)[0] if "/" in d else "."
            _list(fs, root, "rollout_data", files)
            subs = ("train_data", "tokenizer")
        else:
            root = d
            _list(fs, root, "", files)
            subs = ("rollout_data", "train_data", "tokenizer")
        for sub in subs:
            if is_dir(f"{root}/{sub}"):
                _list(fs, root, sub, files)
        for rel, _ in files:
            where[rel] = (fs, f"{root}/{rel}")
    else:
        for f in inputs:
            fs, p = _resolve(f, filesystem)
            info = fs.get_file_info(p)
            if info.type == pafs.FileType.NotFound:
                raise DumpError(f"{f}: not found")
            if info.type != pafs.FileType.File:
                raise DumpError(f"{f}: not a file (give one run folder, or dump files)")
            files.append((f, info.size or 0))
            where[f] = (fs, p)
    files.sort()
    return files, where


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


def run_table(
    dir_or_paths: Inputs,
    *,
    filesystem: Any = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> Dict[str, Any]:
    """:func:`rollscope.run_table` on Ray Data: one task per dump, files read through
    ``filesystem`` (default: ``pyarrow.fs.FileSystem.from_uri`` of each path; plain paths are
    local). Starts Ray with its defaults when it is not running yet. The slime keywords are
    :func:`rollscope.run_table`'s."""
    import ray

    options = options_json(
        eval_names, reward_key, eval_reward_key, rollout_max_response_len, advantage_estimator
    )
    inputs = inputs_of(dir_or_paths)
    files, where = list_run(inputs, filesystem=filesystem)
    lay = layout_of([p for p, _ in files], inputs[0] if inputs else "")
    dumps = lay["dumps"]
    has_train = any(d.get("train_file") for d in dumps)
    filesystems: List[Any] = []

    def fs_index(fs: Any) -> int:
        for i, f in enumerate(filesystems):
            if f is fs:
                return i
        filesystems.append(fs)
        return len(filesystems) - 1

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
    if not ray.is_initialized():
        ray.init()
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    rows = ds.map(lambda item: _summarize(item, filesystems)).take_all()
    rows.sort(key=lambda r: r["i"])
    return merge([(json.loads(r["rollout"]), json.loads(r["samples"])) for r in rows])


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
