"""rollscope.stats on a large dump vs CPython's own unpickler on the same data.pkl (the
pickle inside the torch ZIP, tensors stubbed: the least any pickle-based reader must do) and
torch.load when torch is importable. Prints measured figures; asserts nothing (targets live
here, in the printout: rollscope.stats >= 5x faster than the unpickle).

    python crates/py/bench/bench_stats.py target/bench/synth_large.pt [RUNS]

Run by `cargo xtask bench` with a release wheel installed in target/py-venv.
"""

import io
import os
import pickle
import sys
import time
import zipfile

import rollscope

TARGET = 5.0


class _Stub:
    def __init__(self, *a, **k):
        pass

    def __setstate__(self, s):
        pass


class _Unpickler(pickle.Unpickler):
    # As crates/host/benches/cache.rs's UNPICKLE: builtins are real, everything else a stub,
    # tensors' storages never loaded.
    def find_class(self, module, name):
        if module in ("builtins", "collections", "copyreg", "_codecs"):
            return super().find_class(module, name)
        return _Stub

    def persistent_load(self, pid):
        return None


def best_of(runs, f):
    best = None
    for _ in range(runs):
        t = time.perf_counter()
        v = f()
        dt = time.perf_counter() - t
        del v
        best = dt if best is None else min(best, dt)
    return best


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].endswith(".pt") else 3
    for path in [a for a in sys.argv[1:] if a.endswith(".pt")]:
        size = os.path.getsize(path)
        print(f"\n{path}: {size / 1e6:.0f} MB, best of {runs}")
        ours = best_of(runs, lambda: rollscope.stats(path))
        print(f"  rollscope.stats (file, streamed)     {ours:8.3f} s  {size / 1e6 / ours:7.0f} MB/s")
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            data = z.read(name)
        unpickle = best_of(runs, lambda: _Unpickler(io.BytesIO(data)).load())
        print(
            f"  CPython unpickle of data.pkl ({len(data) / 1e6:.0f} MB)  {unpickle:8.3f} s"
            f"  (in memory, no ZIP read, no metrics)"
        )
        ratio = unpickle / ours
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"  ratio: rollscope.stats is {ratio:.1f}x faster (target >= {TARGET:.0f}x: {verdict})")
        try:
            import torch  # noqa: F401
        except ImportError:
            print("  torch.load: skipped (torch not importable)")
            continue
        tl = best_of(1, lambda: torch.load(path, map_location="cpu", weights_only=False))
        print(f"  torch.load                           {tl:8.3f} s  ({tl / ours:.1f}x rollscope.stats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
