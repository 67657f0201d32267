"""Load checkpoint fuzz cases (``tests/checkpoint_mutants.py``) in memory-capped subprocesses, and judge them.

Run as a script, this module is the worker: ``python checkpoint_fuzz_worker.py MANIFEST`` loads each
case listed in the JSON manifest with ``minitune.io.load`` and prints one JSON line before and one
after each case, then one line saying whether the allowlisted functions are unchanged.  The
parent (:func:`run_cases`) sees which case a hung or killed worker was in from the last line.
"""
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


# -- running the cases in capped subprocesses -----------------------------------------------------------------
MEMORY_CAP = 1 << 30  # RLIMIT_AS of a worker: numpy and the cases need well under this
BATCH_TIMEOUT = 300  # seconds: only a hang gets near it (a batch of 100 cases takes about a second)


def _limit_memory():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_cases(cases, workdir, batch=100):
    """Load every case in worker subprocesses (``batch`` cases each, memory-capped, with a timeout).

    Returns ``(results, allowlist_ok)``: ``results[name] = (outcome, detail, expect)`` where outcome is
    ``ok``, ``CheckpointError``, ``UnsafePickleError``, ``other:<Type>``, ``hang`` or ``crash:<rc>``.
    A worker that hangs or dies is replaced and goes on after the case that stopped it."""
    import os
    import subprocess
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    entries, expects = [], {}
    for i, (name, data, expect) in enumerate(cases):
        path = workdir / f"case{i:05d}.pth"
        path.write_bytes(data)
        entries.append({"case": name, "path": str(path)})
        expects[name] = expect
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    results, allowlist_ok, todo = {}, True, entries
    while todo:
        chunk, todo = todo[:batch], todo[batch:]
        manifest = workdir / "manifest.json"
        manifest.write_text(json.dumps(chunk))
        proc = subprocess.Popen([sys.executable, __file__, str(manifest)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, preexec_fn=_limit_memory, text=True)
        try:
            out, _ = proc.communicate(timeout=BATCH_TIMEOUT)
            stopped = f"crash:{proc.returncode}"
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            stopped = "hang"
        started = None
        for line in out.splitlines():
            record = json.loads(line)
            if "allowlist_unchanged" in record:
                allowlist_ok &= record["allowlist_unchanged"]
            elif "started" in record:
                started = record["case"]
            else:
                results[record["case"]] = (record["outcome"], record["detail"], expects[record["case"]])
                started = None
        done = {e["case"] for e in chunk if e["case"] in results}
        if started is not None:  # the worker stopped inside this case
            results[started] = (stopped, "", expects[started])
            done.add(started)
        todo = [e for e in chunk if e["case"] not in done] + todo
        if len(done) == 0 and started is None:
            raise RuntimeError(f"the fuzz worker failed before its first case ({stopped})")
    return results, allowlist_ok


def failures(results):
    """The cases whose outcome is not what their ``expect`` allows, with a reason each."""
    documented = ("CheckpointError", "UnsafePickleError")
    bad = []
    for name, (outcome, detail, expect) in sorted(results.items()):
        allowed = {"any": ("ok",) + documented, "error": documented, "ok": ("ok",)}[expect]
        if outcome not in allowed or detail:
            bad.append(f"{name}: {outcome} {detail} (expected {expect})")
    return bad


# -- the worker ---------------------------------------------------------------------------------------------
def _allowlist_fingerprint():
    from minitune.io import unpickler as u
    funcs = (u.rebuild_tensor, u.rebuild_parameter, u.torch_size, u._ordered_dict)
    return repr([(f.__defaults__, sorted(f.__dict__), f.__code__.co_code.hex()) for f in funcs] +
                [(k, v.qualname, v._func.__name__) for k, v in sorted(u.ALLOWED_FUNCTIONS.items())])


def run_worker(manifest):
    from minitune.io import load
    from minitune.io.unpickler import CheckpointError, UnsafePickleError
    before = _allowlist_fingerprint()
    for entry in json.loads(pathlib.Path(manifest).read_text()):
        path = entry["path"]
        print(json.dumps({"case": entry["case"], "started": True}), flush=True)
        try:
            obj = load(path)
            outcome, detail = "ok", _check_loaded(obj)
        except UnsafePickleError as exc:
            outcome, detail = "UnsafePickleError", "" if str(exc).startswith(path) else "message lacks the file name"
        except CheckpointError as exc:
            outcome, detail = "CheckpointError", "" if str(exc).startswith(path) else "message lacks the file name"
        except BaseException as exc:  # noqa: BLE001 - exactly what the fuzzer is looking for
            outcome, detail = f"other:{type(exc).__name__}", str(exc)[:200]
        print(json.dumps({"case": entry["case"], "outcome": outcome, "detail": detail}), flush=True)
    print(json.dumps({"allowlist_unchanged": _allowlist_fingerprint() == before}), flush=True)


def _check_loaded(obj):
    """'' when ``obj`` holds only plain values and arrays (no marker object escaped the reader)."""
    plain = (type(None), bool, int, float, complex, str, bytes, np.ndarray)
    stack, seen = [obj], set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif not isinstance(value, plain):
            return f"the result holds a {type(value).__name__}"
    return ""


if __name__ == "__main__":
    run_worker(sys.argv[1])
