"""Every fine-tuning strategy, side by side, from the built-in backbone (a benchmark, not a test).

    python benchmarks/bench_strategies.py                        # both tasks, the settings below
    python benchmarks/bench_strategies.py --tasks offline --epochs 3   # a quicker look
    python benchmarks/bench_strategies.py --json out.json --markdown out.md

For each task — the default offline target task of ``minitune finetune`` and, when it is present,
the real ants/bees folder (``../shared/data/hymenoptera_data``) — it runs ``fit`` once per strategy:
``head``, ``full``, ``bitfit``, ``lora``, layer-wise lr decay, gradual unfreezing, L2-SP, all from the
built-in backbone (``weights="builtin"``), and ``scratch``: the same width-16 ResNet-18 (``width=16``) from a random
initialization (``weights="none"``), every parameter trained, with the optimizer a run from scratch
defaults to (Adam, lr 1e-3, as ``--compare-scratch`` does). Same seed, same epochs, same batch size,
same image size within a task.

Settings: lr decay γ = 0.7; gradual unfreezing every max(1, epochs // 6) epochs, so that the six stages
are all training before the end; L2-SP α = 0.1, β = 0.01 (Li et al.'s values); LoRA rank 4, α = r.
Everything else is ``minitune finetune``'s default (SGD, lr 0.01 from the built-in backbone, batch 16).

Each run is its own Python process, so that its memory is its own: **peak memory** is the process's
peak resident set size (``ru_maxrss``: Python, numpy, numba, the data and the model together) and
**+training** is that peak minus the resident size just before ``fit`` started (imports, compiled
kernels and the interpreter excluded). **Trainable params** are counted when the run ends (gradual
unfreezing starts with the head alone and has unfrozen a stage every E epochs by then). **s/epoch** is the mean wall time of an epoch (train + val);
for ``head`` without augmentation the backbone features are computed once before the epochs, and
that one-off time is shown apart. Wall times on a shared machine vary by tens of percent; compare
accuracies across strategies, and times only roughly.

It prints a Markdown table per task and writes the results as JSON (``--json``, default
``benchmarks/bench_strategies.json``), which notebook 05 reads.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYMENOPTERA = os.path.join(os.path.dirname(ROOT), "shared", "data", "hymenoptera_data")

# Strategy name -> FinetuneConfig overrides (on top of the task's common settings).
STRATEGIES = {
    "head": {"strategy": "head"},
    "full": {"strategy": "full"},
    "bitfit": {"strategy": "bitfit"},
    "lora": {"strategy": "lora"},
    "lr-decay": {"strategy": "full", "lr_decay": 0.7},
    "gradual unfreezing": {"strategy": "full", "unfreeze_every": "epochs // 6"},
    "L2-SP": {"strategy": "full", "l2sp": (0.1, 0.01)},
    "scratch": {"strategy": "full", "weights": "none", "width": "the backbone's"},
}
def default_epochs(task):
    """``minitune finetune``'s default epochs: on the synthetic set from the built-in backbone, on a folder."""
    from minitune.finetune import FinetuneConfig

    return FinetuneConfig(data=None if task == "offline" else HYMENOPTERA).resolved("builtin").epochs


def task_settings(task, epochs, image_size, hymenoptera=HYMENOPTERA):
    """The FinetuneConfig fields shared by every strategy on ``task`` (the offline task at the size
    ``minitune finetune`` picks for the built-in backbone)."""
    from minitune.finetune import FinetuneConfig

    common = {"weights": "builtin", "epochs": epochs, "seed": 0, "workers": 0, "progress": False,
              "overwrite": True}
    if task == "offline":
        return dict(common, data=None, image_size=FinetuneConfig().resolved("builtin").image_size)
    return dict(common, data=hymenoptera, image_size=image_size)


def config_for(task, name, epochs, image_size, out, hymenoptera=HYMENOPTERA):
    """The complete FinetuneConfig overrides of strategy ``name`` on ``task`` (JSON-able)."""
    overrides = dict(task_settings(task, epochs, image_size, hymenoptera), **STRATEGIES[name],
                     out=os.path.join(out, task, name.replace(" ", "-")))
    if overrides.get("unfreeze_every") == "epochs // 6":
        overrides["unfreeze_every"] = max(1, epochs // 6)
    if overrides.get("width") == "the backbone's":
        from minitune.models.weights import weights_width

        overrides["width"] = weights_width("builtin")
    return overrides


def run_one(config_json):
    """In a child process: one ``fit``; print one JSON line with its numbers."""
    from minitune.finetune import FinetuneConfig, fit

    overrides = json.loads(config_json)
    if isinstance(overrides.get("l2sp"), list):
        overrides["l2sp"] = tuple(overrides["l2sp"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    result = fit(FinetuneConfig(**overrides), log=lambda *a: None)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    best = result["best"]
    out = {"best_val_acc": best["val_acc"], "best_val_macro_f1": best["val_macro_f1"],
           "best_epoch": result["best_epoch"], "trainable_parameters": result.get("trainable_parameters"),
           "seconds_per_epoch": result["seconds_per_epoch"], "feature_seconds": result.get("feature_seconds"),
           "wall_seconds": wall, "peak_rss_mb": peak / 1024, "training_rss_mb": (peak - rss_before) / 1024,
           "val_acc": [r["val_acc"] for r in result["history"]],
           "val_macro_f1": [r["val_macro_f1"] for r in result["history"]],
           "data": result["data"], "weights": result["weights"]}
    print("RESULT " + json.dumps(out))


def run_in_child(overrides):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", json.dumps(overrides)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1][len("RESULT "):])


def markdown_table(task, rows):
    lines = [f"| {task} | best val acc | macro-F1 | trainable params (at the end) | s/epoch | peak memory (+training) |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} | | | | |")
            continue
        params = f"{r['trainable_parameters']:,}" if r.get("trainable_parameters") is not None else "?"
        sec = f"{r['seconds_per_epoch']:.2f}"
        if r.get("feature_seconds"):
            sec += f" (+{r['feature_seconds']:.1f} once)"
        lines.append(f"| {name} | {r['best_val_acc']:.3f} | {r['best_val_macro_f1']:.3f} | {params} | {sec} | "
                     f"{r['peak_rss_mb']:.0f} MB (+{r['training_rss_mb']:.0f}) |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="offline,hymenoptera", help="comma-separated: offline, hymenoptera")
    p.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated, from: " + ", ".join(STRATEGIES))
    p.add_argument("--epochs", type=int, help="default: minitune finetune's (on the synthetic set, on a folder)")
    p.add_argument("--image-size", type=int, default=64, help="ants/bees image size (the offline task has its own)")
    p.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "bench_strategies.json"))
    p.add_argument("--hymenoptera", default=HYMENOPTERA, help="the ants/bees folder (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "bench_strategies"), help="the runs' folders")
    p.add_argument("--markdown", help="also write the tables to this Markdown file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        return run_one(a.child)
    results = {"settings": {"epochs": {t: a.epochs or default_epochs(t) for t in ("offline", "hymenoptera")},
                            "hymenoptera_image_size": a.image_size, "seed": 0,
                            "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count()}, "tasks": {}}
    for task in a.tasks.split(","):
        if task == "hymenoptera" and not os.path.isdir(a.hymenoptera):
            print(f"skipping hymenoptera: {a.hymenoptera} not found")
            continue
        rows = {}
        for name in a.strategies.split(","):
            overrides = config_for(task, name, a.epochs or default_epochs(task), a.image_size, a.out, a.hymenoptera)
            t0 = time.perf_counter()
            rows[name] = dict(run_in_child(overrides), config=overrides)
            status = rows[name].get("error") or f"best val acc {rows[name]['best_val_acc']:.3f}"
            print(f"{task:>12} {name:>20}: {status} ({time.perf_counter() - t0:.0f} s)", flush=True)
            results["tasks"][task] = rows
            with open(a.json, "w") as f:  # after every run, so an interrupted benchmark keeps what it measured
                json.dump(results, f, indent=1)
                f.write("\n")
        print()
        print(markdown_table(task, rows))
        print()
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("\n\n".join(markdown_table(t, rows) for t, rows in results["tasks"].items()) + "\n")
    return results


if __name__ == "__main__":
    main()
