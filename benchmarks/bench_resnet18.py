"""ResNet-18 at 224×224: minitune against torch on this CPU (a benchmark, not a test).

    python benchmarks/bench_resnet18.py                 # batch 8
    python benchmarks/bench_resnet18.py --batch 32      # batch 32
    python benchmarks/bench_resnet18.py --no-cold       # skip the cold-start subprocesses
    python benchmarks/bench_resnet18.py --threads 1     # one thread each (steadier on a busy machine)
    python benchmarks/bench_resnet18.py --threads 1 --cpu-time   # CPU time, not wall time (a shared machine)
    python benchmarks/bench_resnet18.py --no-winograd   # every convolution through im2col + GEMM

Measures, for minitune and torch alternating in one process (torch with 2 threads):

- inference: ``no_grad`` forward, BatchNorm in eval mode;
- a training step: forward (BatchNorm in training mode), cross-entropy, backward, SGD update;

and prints images/s for both and the ratio of times minitune/torch (1.0 = as fast as torch,
lower is faster); then minitune's time per layer type (forward and backward), its peak
memory (tracemalloc, numpy allocations of one training step), and the cold start
(``import minitune`` + first forward, with an empty and a warm numba cache).  On a shared machine compare ratios, not absolute images/s.

The network is the torchvision ResNet-18 topology built from ``minitune.nn.functional``
calls over plain parameter arrays (the ``minitune.models`` module is not needed).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict


def _threads_from_argv():
    """``--threads N`` must be known before numpy/numba start their thread pools."""
    argv = sys.argv[1:]
    return int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2


THREADS = _threads_from_argv()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))

import numpy as np  # noqa: E402

torch = None
if not os.environ.get("BENCH_NO_TORCH"):  # the cold-start subprocesses time minitune alone
    try:  # torch first, so that its OpenMP runtime starts with the user's settings, not minitune's
        import torch
    except ImportError:
        pass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import minitune  # noqa: E402
import minitune.nn.functional as F  # noqa: E402

minitune.set_num_threads(THREADS)  # the same count as torch's, whatever OMP_NUM_THREADS says

# ---------------------------------------------------------------- the network from F.* calls

STAGES = [(64, 1), (128, 2), (256, 2), (512, 2)]


def make_params(rng, num_classes=1000, dtype=np.float32):
    """Parameters and BN buffers, torchvision's names and initialization (kaiming fan_out conv, BN 1/0)."""
    P = {}

    def conv(name, o, i, k):
        std = np.sqrt(2.0 / (o * k * k))
        P[name + ".weight"] = minitune.tensor((rng.standard_normal((o, i, k, k)) * std).astype(dtype), requires_grad=True)

    def bn(name, c):
        P[name + ".weight"] = minitune.tensor(np.ones(c, dtype), requires_grad=True)
        P[name + ".bias"] = minitune.tensor(np.zeros(c, dtype), requires_grad=True)
        P[name + ".running_mean"] = minitune.tensor(np.zeros(c, dtype))
        P[name + ".running_var"] = minitune.tensor(np.ones(c, dtype))

    conv("conv1", 64, 3, 7)
    bn("bn1", 64)
    cin = 64
    for s, (c, stride) in enumerate(STAGES, 1):
        for b in range(2):
            pre = f"layer{s}.{b}"
            conv(pre + ".conv1", c, cin if b == 0 else c, 3)
            bn(pre + ".bn1", c)
            conv(pre + ".conv2", c, c, 3)
            bn(pre + ".bn2", c)
            if b == 0 and (stride != 1 or cin != c):
                conv(pre + ".downsample.0", c, cin, 1)
                bn(pre + ".downsample.1", c)
        cin = c
    bound = 1 / np.sqrt(512)
    P["fc.weight"] = minitune.tensor(rng.uniform(-bound, bound, (num_classes, 512)).astype(dtype), requires_grad=True)
    P["fc.bias"] = minitune.tensor(rng.uniform(-bound, bound, num_classes).astype(dtype), requires_grad=True)
    return P


def forward(P, x, training):
    """torchvision's ResNet-18 forward; ReLU ``inplace=True`` as torchvision's (in place when no grad is recorded)."""
    def bn(name, t):
        return F.batch_norm(t, P[name + ".running_mean"], P[name + ".running_var"], P[name + ".weight"],
                            P[name + ".bias"], training=training)

    x = F.relu(bn("bn1", F.conv2d(x, P["conv1.weight"], stride=2, padding=3)), inplace=True)
    x = F.max_pool2d(x, 3, 2, 1)
    for s, (c, stride) in enumerate(STAGES, 1):
        for b in range(2):
            pre = f"layer{s}.{b}"
            st = stride if b == 0 else 1
            out = F.relu(bn(pre + ".bn1", F.conv2d(x, P[pre + ".conv1.weight"], stride=st, padding=1)), inplace=True)
            out = bn(pre + ".bn2", F.conv2d(out, P[pre + ".conv2.weight"], padding=1))
            if pre + ".downsample.0.weight" in P:
                x = bn(pre + ".downsample.1", F.conv2d(x, P[pre + ".downsample.0.weight"], stride=st))
            x = F.relu(out + x, inplace=True)
    x = F.adaptive_avg_pool2d(x, 1).flatten(1)
    return F.linear(x, P["fc.weight"], P["fc.bias"])


def cross_entropy(logits, target):
    if hasattr(F, "cross_entropy"):
        return F.cross_entropy(logits, target)
    m = logits.data.max(axis=1, keepdims=True)  # logsumexp, shifted by a constant
    lse = (logits - minitune.tensor(m)).exp().sum(dim=1).log() + minitune.tensor(m[:, 0])
    picked = (logits * minitune.tensor(np.eye(logits.shape[1], dtype=logits.dtype)[target.data])).sum(dim=1)
    return (lse - picked).mean()


def minitune_infer(P, x):
    with minitune.no_grad():
        return forward(P, x, training=False)


_optimizers = {}


def minitune_train_step(P, x, y, lr=0.01):
    """zero_grad, forward, cross-entropy, backward, SGD step — torch's loop below, with minitune.optim.SGD."""
    if id(P) not in _optimizers:
        _optimizers[id(P)] = minitune.optim.SGD([p for p in P.values() if p.requires_grad], lr=lr)
    opt = _optimizers[id(P)]
    opt.zero_grad()
    loss = cross_entropy(forward(P, x, training=True), y)
    loss.backward()
    opt.step()
    return loss


# ---------------------------------------------------------------- per-layer-type profile

def profile_layers(P, x, y):
    """Time of one training step split by Function (forward and backward), by patching ``forward``/``backward``."""
    from minitune.autograd.function import Function

    totals = defaultdict(float)
    classes = set()
    stack = [Function]
    while stack:
        c = stack.pop()
        for sub in c.__subclasses__():
            classes.add(sub)
            stack.append(sub)
    saved = {}
    for cls in classes:
        for phase in ("forward", "backward"):
            if phase not in cls.__dict__:
                continue
            fn = cls.__dict__[phase].__func__
            saved[(cls, phase)] = cls.__dict__[phase]

            def timed(*a, _fn=fn, _key=f"{cls.__name__}.{phase}", **kw):
                t = time.perf_counter()
                r = _fn(*a, **kw)
                totals[_key] += time.perf_counter() - t
                return r

            setattr(cls, phase, staticmethod(timed))
    try:
        t = time.perf_counter()
        minitune_train_step(P, x, y)
        step = time.perf_counter() - t
    finally:
        for (cls, phase), v in saved.items():
            setattr(cls, phase, v)
    return step, totals


# ---------------------------------------------------------------- torch side

def torch_model(batch):
    sys.path.insert(0, os.path.join(ROOT, "tools", "references"))
    from _torch_resnet import resnet18

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = resnet18()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def infer(x):
        model.eval()
        with torch.no_grad():
            return model(x)

    def train(x, y):
        model.train()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return infer, train


CLOCK = time.perf_counter  # --cpu-time: time.process_time (this process's CPU time, all its threads)

# A pause before each timed run, so that each starts on quiet cores.  torch's OpenMP threads (libgomp)
# keep spinning for ~5 ms after each parallel region (measured: 5-6 ms of CPU time while the caller
# sleeps); a run that starts inside that window shares the cores with them.  Without the pause the
# minitune run that follows a torch run paid for it (and never the other way: minitune's threads sleep).
SETTLE_S = 0.02


def best_of(fn, reps):
    times = []
    for _ in range(reps):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times), float(np.median(times))


COLD_SNIPPET = """
import time, sys
t = time.perf_counter()
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import numpy as np, minitune
from bench_resnet18 import make_params, minitune_infer
t_import = time.perf_counter() - t
P = make_params(np.random.default_rng(0))
x = minitune.tensor(np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32))
t1 = time.perf_counter(); minitune_infer(P, x); t_first = time.perf_counter() - t1
t1 = time.perf_counter(); minitune_infer(P, x); t_second = time.perf_counter() - t1
print(f"{{t_import:.2f}} {{t_first:.2f}} {{t_second:.2f}}")
"""


def cold_start():
    bench = os.path.dirname(os.path.abspath(__file__))
    code = COLD_SNIPPET.format(root=ROOT, bench=bench)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, BENCH_NO_TORCH="1")
        rows = []
        for label in ("empty numba cache", "warm numba cache"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            rows.append((label, *map(float, out.stdout.split())))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="threads for BLAS, numba and torch (default 2)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--only", choices=["infer", "train"], help="run one of the two measurements")
    ap.add_argument("--cpu-time", action="store_true",
                    help="measure CPU time (steadier than wall time on a shared machine; meaningful with --threads 1)")
    ap.add_argument("--no-winograd", action="store_true", help="3x3 convolutions through im2col + GEMM too")
    args = ap.parse_args(argv)
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    if args.no_winograd:
        import minitune.kernels.conv2d as conv_kernels
        conv_kernels.WINOGRAD_MIN_TILES = float("inf")
    rng = np.random.default_rng(0)
    P = make_params(rng)
    xa = rng.standard_normal((args.batch, 3, 224, 224)).astype(np.float32)
    ya = rng.integers(0, 1000, args.batch)
    x, y = minitune.tensor(xa), minitune.tensor(ya)
    have_torch = False
    if not args.no_torch:
        if torch is not None:
            t_infer, t_train = torch_model(args.batch)
            tx, ty = torch.from_numpy(xa), torch.from_numpy(ya)
            have_torch = True
    print(f"ResNet-18, 224x224, batch {args.batch}, float32; threads {THREADS}; torch {'on' if have_torch else 'not installed'}"
          f"; {'CPU' if args.cpu_time else 'wall'} time; convolutions: {'im2col only' if args.no_winograd else 'Winograd for 3x3 stride 1'}"
          f"; load average {os.getloadavg()[0]:.1f}")
    minitune_infer(P, x)  # compile / warm up
    minitune_train_step(P, x, y)
    if have_torch:
        t_infer(tx)
        t_train(tx, ty)
    results = {}
    for name, ours, theirs in (("inference", lambda: minitune_infer(P, x), lambda: t_infer(tx)),
                               ("training step", lambda: minitune_train_step(P, x, y), lambda: t_train(tx, ty))):
        if args.only and not name.startswith(args.only):
            continue
        mt, tt = [], []
        for _ in range(args.reps):  # alternate, so both see the same machine load
            time.sleep(SETTLE_S)
            mt.append(best_of(ours, 1)[0])
            if have_torch:
                time.sleep(SETTLE_S)
                tt.append(best_of(theirs, 1)[0])
        m = float(np.median(mt))
        line = f"{name:<14} minitune {args.batch / m:6.1f} img/s ({m * 1000:7.0f} ms)"
        if have_torch:
            t = float(np.median(tt))
            line += f"   torch {args.batch / t:6.1f} img/s ({t * 1000:7.0f} ms)   ratio minitune/torch {m / t:.2f}"
        print(line)
        results[name] = m
    if args.only != "infer":
        step, totals = profile_layers(P, x, y)
        print(f"\nper-layer-type time of one training step ({step * 1000:.0f} ms in all):")
        for key, v in sorted(totals.items(), key=lambda kv: -kv[1]):
            if v > 0.002:
                print(f"  {key:<26} {v * 1000:7.0f} ms  {100 * v / step:5.1f}%")
        tracemalloc.start()
        minitune_train_step(P, x, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"\npeak memory of a training step (numpy allocations, tracemalloc): {peak / 2 ** 20:.0f} MiB")
    if not args.no_cold:
        print("\ncold start, batch 1 inference in a fresh process:  import | first forward | second forward")
        for label, a, b, c in cold_start():
            print(f"  {label:<18} {a:6.2f} s | {b:6.2f} s | {c:6.2f} s")


if __name__ == "__main__":
    main()
