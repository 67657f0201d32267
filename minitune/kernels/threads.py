"""Intra-op threads: a kernel splits its work into parts and runs them on a small pool of threads.

Why not numba's ``parallel=True`` or BLAS's own threads?  On the 2-core machines this project
targets, both lose: numba's parallel loops and OpenBLAS's threads run on two different thread
pools that spin while waiting and fight each other for the cores (benchmarks/README.md), and a
Winograd convolution's 16 small GEMMs are too small for OpenBLAS to split well.  So minitune
splits the work itself, the way torch's intra-op parallelism does: a convolution runs its samples
in ``get_num_threads()`` parts, one part per thread, and each part is the serial kernel on fewer
samples — im2col or the Winograd transforms, its GEMMs (numpy's BLAS on one thread) and the
output transform, all on one core with the part's data in that core's cache.  A batch norm runs
its channels in parts, an element-wise op its rows.

numpy's BLAS: the first split kernel puts numpy's OpenBLAS on one thread and leaves it there
(``_blas_one_thread`` says why); ``set_num_threads(1)`` gives it back its threads.  Where numpy's
BLAS is not an OpenBLAS this module can find (MKL, Apple's Accelerate), it keeps its own threads
and the parts' GEMMs may oversubscribe the cores.

    run_parts(fn, parts)      fn(*part) for every part, on the pool; returns the results in order

The parts are not dealt out: the caller and the workers it wakes each claim the next part nobody
has started (``_Job``), so a worker that is slow to wake (~75-170 µs on a VM whose idle vCPUs
halt) leaves its part to the caller instead of making it wait.  Which thread runs a part changes
from call to call; what a part computes, and so the result, does not.

Numba kernels are compiled ``nogil=True`` and numpy's BLAS and ufuncs release the GIL, so the
parts run at the same time on different cores.  Results agree for any number of threads to the
float rounding: a convolution's weight gradient is the sum of the parts' partial sums, and BLAS
may block a GEMM with fewer columns differently, so the last bits can follow the split, as in torch.

Threads, as torch: ``set_num_threads(n)`` / ``get_num_threads()``; the default is the number of
cores this process may run on, or ``OMP_NUM_THREADS`` when it is set (as torch reads it).
``run_parts`` runs the parts one after another, on the calling thread, when there is one thread,
when it is called from inside a part, or when another thread holds the pool.
"""
import ctypes
import os
import queue
import threading

_state = threading.local()  # .inside: this thread is running a part


def _default_threads():
    """OMP_NUM_THREADS when set to a positive integer, else the cores this process may use."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_num_threads = _default_threads()


def get_num_threads():
    """The number of threads a kernel splits its work over (torch.get_num_threads)."""
    return _num_threads


def set_num_threads(n):
    """Split kernels over ``n`` ≥ 1 threads from now on (torch.set_num_threads)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: expected a number of threads >= 1, got {n}")
    _num_threads = n
    if n == 1:
        _blas_threads_back()


def in_part():
    """True on a thread that is running a part (a kernel called there runs serially)."""
    return getattr(_state, "inside", False)


def split(n, work=None, min_part_work=0, threads=None):
    """[lo, hi) ranges cutting range(n) into nearly equal parts, one per thread (``get_num_threads()``,
    or ``threads`` when given).

    At most n parts, and, when the total ``work`` is given, each part at least ``min_part_work``
    of it (small jobs stay in one part: handing a part to a thread costs some 20-50 µs)."""
    parts = min(_num_threads if threads is None else threads, n)
    if work is not None and min_part_work > 0:
        parts = min(parts, int(work // min_part_work))
    parts = max(1, parts)
    q, r = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + q + (i < r))
    return list(zip(bounds[:-1], bounds[1:]))


# ---------------------------------------------------------------- numpy's BLAS on one thread

def _openblas_thread_functions():
    """(get, set) of the OpenBLAS numpy loaded, or None (another BLAS, or none found)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:  # not Linux
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype, set_.argtypes = ctypes.c_int, (ctypes.c_int,)
                return get, set_
    return None


_blas = None  # found on first use (numpy is loaded by then)


def _blas_functions():
    global _blas
    if _blas is None:
        _blas = _openblas_thread_functions() or False
    return _blas


_blas_threads_before = None  # numpy's BLAS thread count before minitune set it to one


def _blas_one_thread():
    """Put numpy's OpenBLAS on one thread (each part calls it from its own thread), and leave it there.

    Not restored after each kernel: an OpenBLAS worker keeps spinning for a while after every
    multi-threaded GEMM, and one spinning through the next kernel's parts halves their speed
    (measured: a layer1 convolution 7.0 → 11.2 ms).  ``set_num_threads(1)`` gives BLAS its threads back."""
    global _blas_threads_before
    blas = _blas_functions()
    if blas and _blas_threads_before is None:
        count = blas[0]()
        if count != 1:
            blas[1](1)
            _blas_threads_before = count


def _blas_threads_back():
    global _blas_threads_before
    if _blas_threads_before is not None:
        _blas_functions()[1](_blas_threads_before)
        _blas_threads_before = None


# ---------------------------------------------------------------- the pool

class _Job:
    """The parts of one ``run_parts`` call.  The caller runs part 0; then every thread of the call —
    the caller and the woken workers — claims the next part nobody has started, runs it, and claims
    again until none is left.

    Why claim, not deal part i to thread i: waking a worker that sleeps takes ~75-170 µs here (a
    virtual CPU that went idle must be woken by the host), during which a dealt part waits while the
    caller may already be idle.  Claimed, the caller takes the parts the worker is too late for.
    Measured: a ResNet-18 training step at batch 8, 414 → 407 ms (benchmarks/README.md)."""

    def __init__(self, fn, parts):
        self.fn, self.parts, self.n = fn, parts, len(parts)
        self.lock = threading.Lock()
        self.next = 1  # the first part not yet claimed (part 0 is the caller's)
        self.left = self.n  # parts not yet finished
        self.results, self.errors = [None] * self.n, [None] * self.n
        self.finished = threading.Event()

    def _claim(self):
        with self.lock:
            i = self.next
            if i >= self.n:
                return None
            self.next = i + 1
            return i

    def work(self, i=None):
        """Run part ``i`` (the caller: 0), then claim parts until none is left (the workers start claiming)."""
        if i is None:
            i = self._claim()
            if i is None:  # a worker woken too late: the caller has claimed everything (and may be done)
                return
        fn, parts = self.fn, self.parts
        while i is not None:
            try:
                self.results[i] = fn(*parts[i])
            except BaseException as e:  # raised by the caller once every part has finished
                self.errors[i] = e
            following = self._claim()
            if following is None:
                # Drop the parts' references before the caller may go on: a closure kept alive here
                # would hold its arrays, and an in-place op would see them referred to (Tensor._owns_data).
                fn = parts = None
            with self.lock:
                self.left -= 1
                last = self.left == 0
            if last:
                self.finished.set()
            i = following

    def outcome(self):
        """Wait for every part; their results in order, or the first part's exception raised."""
        self.finished.wait()
        results, errors = self.results, self.errors
        self.fn = self.parts = self.results = self.errors = None
        for e in errors:
            if e is not None:
                raise e
        return results


class _Pool:
    """Worker threads, each woken through its own queue with the ``_Job`` to help with."""

    def __init__(self):
        self.lock = threading.Lock()  # held by the thread whose run_parts uses the workers
        self.workers = []

    def grow(self, n):
        while len(self.workers) < n:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._work, args=(inbox,), daemon=True,
                             name=f"minitune-{len(self.workers) + 1}").start()
            self.workers.append(inbox)

    @staticmethod
    def _work(inbox):
        _state.inside = True
        while True:
            job = inbox.get()
            job.work()
            job = None  # no reference to a finished job's arrays while waiting


_pool = _Pool()


def _reset_after_fork():
    """A forked child has none of the parent's threads: start a new pool on demand."""
    global _pool
    _pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def run_parts(fn, parts):
    """[fn(*part) for part in parts], the parts spread over ``get_num_threads()`` threads.

    The calling thread runs part 0 and wakes T − 1 workers (T threads, at most one per part); each
    thread then claims the next part not yet started (``_Job``), so which thread runs a part
    depends on timing, never the result.  An exception in any part is raised here, after every
    part has finished.  A call interrupted while it waits (Ctrl-C) returns nothing; a worker
    finishes the part it is running, and the next call's parts run without waiting for it."""
    parts = list(parts)
    pool = _pool
    if len(parts) < 2 or _num_threads < 2 or in_part() or not pool.lock.acquire(False):
        return [fn(*p) for p in parts]
    try:
        _blas_one_thread()
        T = min(_num_threads, len(parts))
        pool.grow(T - 1)
        job = _Job(fn, parts)
        for inbox in pool.workers[:T - 1]:
            inbox.put(job)
        _state.inside = True
        try:
            job.work(0)
        finally:
            _state.inside = False
        return job.outcome()
    finally:
        pool.lock.release()
