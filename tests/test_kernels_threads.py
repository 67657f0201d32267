"""Intra-op threads (kernels/threads.py): the parts, the pool, numpy's BLAS thread count, and
results that do not depend on the number of threads (except a sum's rounding where documented)."""
import multiprocessing
import threading

import numpy as np
import pytest

import minitune
from minitune.kernels import conv2d as K
from minitune.kernels import elementwise as E
from minitune.kernels import threads as T

pytestmark = pytest.mark.kernels


@pytest.mark.parametrize("n,threads,work,min_work", [(10, 3, None, 0), (2, 4, None, 0), (7, 2, 100, 60),
                                                     (1, 8, None, 0), (0, 2, None, 0), (9, 4, 10, 1)])
def test_split_covers_the_range_in_nearly_equal_parts(n, threads, work, min_work, monkeypatch):
    monkeypatch.setattr(T, "_num_threads", threads)
    parts = T.split(n, work=work, min_part_work=min_work)
    expected = max(1, min(threads, n, int(work // min_work) if work is not None and min_work else threads))
    assert len(parts) == expected
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    sizes = [hi - lo for lo, hi in parts]
    assert max(sizes) - min(sizes) <= 1


def test_set_num_threads_as_torch(monkeypatch):
    monkeypatch.setattr(T, "_num_threads", T.get_num_threads())
    minitune.set_num_threads(3)
    assert minitune.get_num_threads() == 3 == T.get_num_threads()
    with pytest.raises(ValueError, match="expected a number of threads >= 1, got 0"):
        minitune.set_num_threads(0)
    with pytest.raises(TypeError, match="expected an int, got float"):
        minitune.set_num_threads(2.0)
    assert minitune.get_num_threads() == 3


def test_default_threads_read_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert T._default_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert T._default_threads() >= 1


def test_parts_run_on_different_threads_in_order(monkeypatch):
    """Parts 0-2 wait for each other (a barrier), so three threads must run them at once: the caller
    (part 0, it claims first) and both workers; the results come back in the parts' order."""
    monkeypatch.setattr(T, "_num_threads", 3)
    barrier = threading.Barrier(3, timeout=60)

    def part(i):
        if i < 3:
            barrier.wait()
        return i, threading.current_thread().name

    names = T.run_parts(part, [(i,) for i in range(5)])
    assert [i for i, _ in names] == list(range(5))
    assert names[0][1] == threading.current_thread().name
    assert len({name for _, name in names[:3]}) == 3  # the caller and two workers
    assert {name for _, name in names} <= {threading.current_thread().name, "minitune-1", "minitune-2"}


def test_the_caller_runs_the_parts_a_busy_worker_has_not_claimed(monkeypatch):
    """A worker still busy (with a part left running by a call interrupted with Ctrl-C, say) does not
    hold up the next call: the caller claims every part itself instead of waiting for the worker."""
    monkeypatch.setattr(T, "_num_threads", 2)
    release, started = threading.Event(), threading.Event()

    def blocking():
        started.set()
        release.wait(timeout=60)

    T._pool.grow(1)
    T._pool.workers[0].put(T._Job(blocking, [(), ()]))  # the worker claims part 1 (0 is a caller's) and stays inside
    try:
        assert started.wait(timeout=60)
        names = T.run_parts(lambda i: threading.current_thread().name, [(0,), (1,)])
        assert names == [threading.current_thread().name] * 2
        assert not release.is_set()  # returned while the worker was still busy
    finally:
        release.set()


def test_an_error_in_any_part_is_raised_after_all_parts(monkeypatch):
    monkeypatch.setattr(T, "_num_threads", 2)
    done = []

    def part(i):
        if i == 1:
            raise ValueError("part 1 failed")
        done.append(i)

    with pytest.raises(ValueError, match="part 1 failed"):
        T.run_parts(part, [(0,), (1,), (2,), (3,)])
    assert sorted(done) == [0, 2, 3]
    assert T.run_parts(lambda i: i * 2, [(1,), (2,)]) == [2, 4]  # the pool still works


def test_nested_parts_run_serially(monkeypatch):
    monkeypatch.setattr(T, "_num_threads", 2)

    def outer(i):
        inner = T.run_parts(lambda j: threading.current_thread().name, [(0,), (1,)])
        return len(set(inner))

    assert T.run_parts(outer, [(0,), (1,)]) == [1, 1]


@pytest.mark.skipif(not T._blas_functions(), reason="numpy's BLAS is not OpenBLAS (its thread count is not found)")
def test_blas_runs_one_thread_while_minitune_splits_and_gets_its_threads_back(monkeypatch):
    get, set_ = T._blas_functions()
    before = get()
    monkeypatch.setattr(T, "_num_threads", 2)
    try:
        set_(2)
        T._blas_threads_before = None
        T.run_parts(lambda i: i, [(0,), (1,)])
        assert get() == 1
        T.set_num_threads(1)
        assert get() == 2
    finally:
        set_(before)
        T._blas_threads_before = None


def _conv_in_child(queue):
    x = np.random.default_rng(0).standard_normal((4, 3, 9, 9))
    w = np.random.default_rng(1).standard_normal((5, 3, 3, 3))
    queue.put(K._conv2d_forward_fast(x, w, None, (1, 1), (1, 1), (1, 1), 1).sum())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_child_runs_parts_on_its_own_pool(monkeypatch):
    monkeypatch.setattr(T, "_num_threads", 2)
    monkeypatch.setattr(K, "MIN_PART_MULTIPLIES", 0)
    T.run_parts(lambda i: i, [(0,), (1,)])  # the parent's pool has a worker thread now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_conv_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    x = np.random.default_rng(0).standard_normal((4, 3, 9, 9))
    w = np.random.default_rng(1).standard_normal((5, 3, 3, 3))
    assert got == pytest.approx(K.conv2d_forward_reference(x, w, None, (1, 1), (1, 1), (1, 1), 1).sum(), rel=1e-12)


@pytest.mark.parametrize("name", ["winograd", "per_sample", "batched", "pointwise_stride2"])
def test_conv_results_agree_for_one_and_two_threads(name, monkeypatch):
    """The same numbers to float32 rounding: grad_weight and grad_bias sum the parts' partial sums,
    and BLAS may block a GEMM with fewer columns differently.  With two threads an im2col backward
    runs grad_weight and grad_input as two tasks, with four as two groups of samples × two tasks."""
    shapes = {"winograd": ((6, 8, 12, 12), (8, 8, 3, 3), 1, 1), "per_sample": ((5, 4, 20, 20), (6, 4, 3, 3), 2, 1),
              "batched": ((5, 8, 6, 6), (8, 8, 3, 3), 2, 1), "pointwise_stride2": ((5, 8, 6, 6), (4, 8, 1, 1), 2, 0)}
    xs, ws, s, p = shapes[name]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    args = ((s, s), (p, p), (1, 1), 1)
    monkeypatch.setattr(K, "MIN_PART_MULTIPLIES", 0)
    monkeypatch.setattr(K, "PER_SAMPLE_MIN_L", 0 if name == "per_sample" else 10 ** 9)
    monkeypatch.setattr(K, "WINOGRAD_MIN_TILES", 0 if name == "winograd" else np.inf)
    monkeypatch.setattr(K, "WINOGRAD_MIN_TILES_PER_SAMPLE", 0)
    results = {}
    for n in (1, 2, 4):
        monkeypatch.setattr(T, "_num_threads", n)
        y = K._conv2d_forward_fast(x, w, None, *args)
        g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
        results[n] = (y,) + K._conv2d_backward_fast(g, x, w, *args)
    for n in (2, 4):
        for a, b in zip(results[1], results[n]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(a).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_match_their_twins_and_torch_rules(dtype, threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    x[0, 0, :3] = [np.nan, 0.0, -0.0]
    y = E.relu_forward(x)
    np.testing.assert_array_equal(y, E.relu_forward_reference(x))
    assert np.isnan(y[0, 0, 0])
    assert np.signbit(y[0, 0, 2]) and np.signbit(E.relu_forward_reference(x)[0, 0, 2])  # −0.0 kept, as torch.relu
    out = np.full_like(x, 7)
    assert E.relu_forward(x, out=out) is out
    np.testing.assert_array_equal(out, y)
    inplace = x.copy()
    assert E.relu_forward(inplace, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, y)
    assert np.signbit(inplace[0, 0, 2]) and np.isnan(inplace[0, 0, 0])
    shifted = x.copy().reshape(-1)  # out overlapping x one element along: the result is still max(x, 0)
    E.relu_forward(shifted[1:], out=shifted[:-1])
    np.testing.assert_array_equal(shifted[:-1], y.reshape(-1)[1:])
    g = rng.standard_normal(x.shape).astype(dtype)
    g[1, 1, 1] = np.inf
    x[1, 1, 1] = -1.0  # y = 0: the gradient is 0 even where g is inf (torch's threshold_backward)
    y = E.relu_forward(x)
    got = E.relu_backward(g, y)
    np.testing.assert_array_equal(got, E.relu_backward_reference(g, y))
    in_place = g.copy()
    assert E.relu_backward(in_place, y, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, got)
    assert got[0, 0, 0] == g[0, 0, 0] and got[0, 0, 1] == 0 and got[1, 1, 1] == 0


def test_a_call_interrupted_while_waiting_leaves_no_result_for_the_next(monkeypatch):
    """Ctrl-C while the caller waits for a worker: the worker's late result must not be taken
    for the next call's (a notebook user interrupts a cell and runs it again)."""
    import os
    import signal
    import time

    monkeypatch.setattr(T, "_num_threads", 2)

    def slow(i):
        if i == 1:
            time.sleep(0.5)
        return f"first call, part {i}"

    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        T.run_parts(slow, [(0,), (1,)])
    timer.join()
    assert T.run_parts(lambda i: f"second call, part {i}", [(0,), (1,)]) == ["second call, part 0",
                                                                            "second call, part 1"]
