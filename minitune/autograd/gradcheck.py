r"""``gradcheck``: compare a backward pass against finite differences.

For a function y = f(x₁, …, x_k) and a **random** upstream gradient v (never the all-ones
of ``.sum()``, which hides flipped kernels and swapped indices), the backward pass computes

    a_i = vᵀ J_i = ∂⟨v, f(x)⟩ / ∂x_i          (J_i = ∂y/∂x_i, the Jacobian)

and central differences estimate the same quantity element by element:

    n_i[j] = (⟨v, f(x + ε e_j)⟩ − ⟨v, f(x − ε e_j)⟩) / (2ε)          error O(ε²)

Each element must satisfy |a − n| ≤ atol + rtol·|n|.  When the output is small (≤ 64
elements) the whole Jacobian is also compared, row by row, with one backward per output
element.  With ``fast_mode=True`` a second random vector u over the inputs replaces the
per-element loop by one directional derivative,

    vᵀ J u ≈ (⟨v, f(x + εu)⟩ − ⟨v, f(x − εu)⟩) / (2ε),

two forward passes instead of 2·numel.  The backward is run twice and must give the same
gradient both times (a backward that mutates saved state fails here).

At a point where f has a kink (relu at 0, max with ties) the two one-sided differences
(f(x+ε) − f(x))/ε and (f(x) − f(x−ε))/ε disagree; an analytic value between them (a
subgradient, e.g. torch's even split among tied maxima) is then reported as a
*non-differentiable point* in ``gradcheck.last_nondifferentiable``, not as a mismatch.

Differences are taken in float64; a float32 input is refused unless ``allow_float32=True``
(float32 round-off ≈ 1e-7/ε swamps the derivative).
"""
import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytic and numeric gradients disagree."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor)]


def _project(outs, vs):
    return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, vs)))


def _analytic(fn, inputs, diff, vs):
    for i in diff:
        inputs[i].grad = None
    outs = _outputs(fn, inputs)
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not live:
        raise GradcheckError("gradcheck: no output requires grad; the function is not connected to its inputs")
    # One backward through the sum ⟨v, y⟩ of all outputs.
    total = None
    for o, v in live:
        term = (o * Tensor(v.astype(o.dtype))).sum()
        total = term if total is None else total + term
    total.backward()
    return [np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad.data.astype(np.float64)
            for i in diff]


def _table(rows, title):
    head = f"{'input':>5}  {'index':<16}{'analytic':>14}{'numeric':>14}{'abs err':>11}{'rel err':>11}"
    lines = [title, head]
    for i, idx, a, n in rows:
        err = abs(a - n)
        lines.append(f"{i:>5}  {str(idx):<16}{a:>14.6g}{n:>14.6g}{err:>11.3g}{err / max(abs(n), 1e-12):>11.3g}")
    return "\n".join(lines)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, raise_exception=True,
              allow_float32=False, seed=0, max_rows=10):
    """Check ``fn``'s backward against central differences at ``inputs``.

    ``fn`` takes the tensors in ``inputs`` (a Tensor or a tuple; non-tensors pass through)
    and returns a Tensor or a tuple of Tensors.  Inputs with ``requires_grad=True`` are
    checked.  Returns True; on a mismatch raises ``GradcheckError`` with a table of the
    worst elements (or returns False when ``raise_exception=False``).
    """
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64 and not allow_float32:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                            "(pass allow_float32=True to check anyway, with loose tolerances)")
    rng = np.random.default_rng(seed)

    def fail(message):
        if raise_exception:
            raise GradcheckError(message)
        return False

    with no_grad():
        outs0 = _outputs(fn, inputs)
    vs = [rng.standard_normal(o.shape) for o in outs0]
    analytic = _analytic(fn, inputs, diff, vs)
    again = _analytic(fn, inputs, diff, vs)
    for i, a, b in zip(diff, analytic, again):
        if not np.array_equal(a, b):
            return fail(f"gradcheck: backward is not reentrant: two backward passes gave different gradients "
                        f"for input {i} (max difference {np.max(np.abs(a - b)):.3g})")

    def f_at():
        with no_grad():
            return _project(_outputs(fn, inputs), vs)

    if fast_mode:
        us = [rng.standard_normal(inputs[i].shape) for i in diff]
        saved = [inputs[i].data.copy() for i in diff]
        for i, u in zip(diff, us):
            inputs[i].data = saved[diff.index(i)] + eps * u
        fp = f_at()
        for i, u in zip(diff, us):
            inputs[i].data = saved[diff.index(i)] - eps * u
        fm = f_at()
        for i, s in zip(diff, saved):
            inputs[i].data = s
        numeric = (fp - fm) / (2 * eps)
        a = float(sum(np.sum(g * u) for g, u in zip(analytic, us)))
        if abs(a - numeric) > atol + rtol * abs(numeric):
            return fail(_table([("all", "v^T J u", a, numeric)], "gradcheck (fast mode) failed:"))
        return True

    f0 = f_at()
    bad, kinks = [], []
    numerics = []
    for i, a in zip(diff, analytic):
        x = inputs[i].data
        num = np.zeros(x.shape)
        for j in np.ndindex(*x.shape):
            old = x[j]
            x[j] = old + eps
            fp = f_at()
            x[j] = old - eps
            fm = f_at()
            x[j] = old
            n = (fp - fm) / (2 * eps)
            num[j] = n
            if abs(a[j] - n) > atol + rtol * abs(n):
                dplus, dminus = (fp - f0) / eps, (f0 - fm) / eps
                tol = atol + rtol * max(abs(dplus), abs(dminus))
                lo, hi = min(dplus, dminus), max(dplus, dminus)
                if abs(dplus - dminus) > tol and lo - tol <= a[j] <= hi + tol:
                    kinks.append((i, j))
                else:
                    bad.append((abs(a[j] - n), i, j, a[j], n))
        numerics.append(num)
    if bad:
        bad.sort(reverse=True)
        rows = [(i, j, a, n) for _, i, j, a, n in bad[:max_rows]]
        return fail(_table(rows, f"gradcheck failed: {len(bad)} element(s) differ "
                                 f"(atol={atol}, rtol={rtol}, eps={eps}); worst first:"))

    # Small outputs: the full Jacobian, one backward per output element.
    total_out = sum(o.data.size for o in outs0)
    if total_out <= 64 and len(outs0) == 1:
        out_shape = outs0[0].shape
        for k in np.ndindex(*out_shape):
            onehot = np.zeros(out_shape)
            onehot[k] = 1.0
            rows = _analytic(fn, inputs, diff, [onehot])
            for i, row in zip(diff, rows):
                x = inputs[i].data
                for j in np.ndindex(*x.shape):
                    if (i, j) in kinks:
                        continue
                    old = x[j]
                    x[j] = old + eps
                    with no_grad():
                        yp = _outputs(fn, inputs)[0].data[k]
                    x[j] = old - eps
                    with no_grad():
                        ym = _outputs(fn, inputs)[0].data[k]
                    x[j] = old
                    n = (float(yp) - float(ym)) / (2 * eps)
                    if abs(row[j] - n) > atol + rtol * abs(n):
                        return fail(_table([(i, f"d y{k} / d x{j}", row[j], n)],
                                           "gradcheck failed on the full Jacobian:"))
    if kinks:
        gradcheck.last_nondifferentiable = kinks
    return True


gradcheck.last_nondifferentiable = []
