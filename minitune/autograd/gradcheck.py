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
*non-differentiable point* in ``gradcheck.last_nondifferentiable`` (the kinks of the latest
call; every call resets it), not as a mismatch.

Differences are taken in float64; a float32 input is refused unless ``allow_float32=True``
(float32 round-off ≈ 1e-7/ε swamps the derivative).
"""
import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor

# The full Jacobian is compared only for a single output with at most this many elements
# (one backward per output element).
JACOBIAN_MAX_OUTPUTS = 64


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytic and numeric gradients disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, raise_exception=True,
              allow_float32=False, seed=0, max_rows=10):
    """Check ``fn``'s backward against central differences at ``inputs``.

    ``fn`` takes the tensors in ``inputs`` (a Tensor or a tuple; non-tensors pass through)
    and returns a Tensor or a tuple of Tensors.  Inputs with ``requires_grad=True`` are
    checked.  Returns True; on a mismatch raises ``GradcheckError`` with a table of the
    worst elements (or returns False when ``raise_exception=False``).

    The checks, in order (the first failure stops): the backward is reentrant
    (``_check_reentrant``); then either one random directional derivative (``fast_mode``,
    ``_check_directional``) or every input element (``_check_elements``) followed, for a
    small single output, by the whole Jacobian (``_check_jacobian``).
    ``gradcheck.last_nondifferentiable`` lists the kinks that this call found (reset every call).
    """
    gradcheck.last_nondifferentiable = []
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    checked = _differentiable_inputs(inputs, allow_float32)
    rng = np.random.default_rng(seed)
    with no_grad():
        outputs = _outputs(fn, inputs)
    vs = [rng.standard_normal(o.shape) for o in outputs]
    analytic, failure = _check_reentrant(fn, inputs, checked, vs)
    if failure is None and fast_mode:
        us = [rng.standard_normal(inputs[i].shape) for i in checked]
        failure = _check_directional(fn, inputs, checked, vs, analytic, us, eps, atol, rtol)
    elif failure is None:
        failure, kinks = _check_elements(fn, inputs, checked, vs, analytic, eps, atol, rtol, max_rows)
        gradcheck.last_nondifferentiable = kinks
        if failure is None and len(outputs) == 1 and outputs[0].data.size <= JACOBIAN_MAX_OUTPUTS:
            failure = _check_jacobian(fn, inputs, checked, outputs[0].shape, eps, atol, rtol, kinks)
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


gradcheck.last_nondifferentiable = []


def _differentiable_inputs(inputs, allow_float32):
    """The positions of the inputs that require grad; each must be float64 unless ``allow_float32``."""
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64 and not allow_float32:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                            "(pass allow_float32=True to check anyway, with loose tolerances)")
    return checked


# ---- the four checks: each returns a failure message, or None when it passes -------------------

def _check_reentrant(fn, inputs, checked, vs):
    """Two backward passes must give bit-identical a_i = vᵀ J_i (a backward that mutates its
    saved state fails here).  Returns (a for each checked input, failure or None)."""
    analytic = _vjp(fn, inputs, checked, vs)
    again = _vjp(fn, inputs, checked, vs)
    for i, a, b in zip(checked, analytic, again):
        if not np.array_equal(a, b):
            return analytic, (f"gradcheck: backward is not reentrant: two backward passes gave different "
                              f"gradients for input {i} (max difference {np.max(np.abs(a - b)):.3g})")
    return analytic, None


def _check_directional(fn, inputs, checked, vs, analytic, us, eps, atol, rtol):
    r"""One derivative along a random direction u over all inputs at once (``fast_mode``):

        analytic  Σ_i ⟨a_i, u_i⟩ = vᵀ J u
        numeric   (φ(x + εu) − φ(x − εu)) / (2ε),      φ(x) = ⟨v, f(x)⟩

    two forward passes instead of 2·numel; pass if |analytic − numeric| ≤ atol + rtol·|numeric|.
    """
    saved = [inputs[i].data.copy() for i in checked]
    for i, x, u in zip(checked, saved, us):
        inputs[i].data = x + eps * u
    phi_plus = _phi(fn, inputs, vs)
    for i, x, u in zip(checked, saved, us):
        inputs[i].data = x - eps * u
    phi_minus = _phi(fn, inputs, vs)
    for i, x in zip(checked, saved):
        inputs[i].data = x
    numeric = (phi_plus - phi_minus) / (2 * eps)
    directional = float(sum(np.sum(a * u) for a, u in zip(analytic, us)))
    if _close(directional, numeric, atol, rtol):
        return None
    return _table([("all", "v^T J u", directional, numeric)], "gradcheck (fast mode) failed:")


def _check_elements(fn, inputs, checked, vs, analytic, eps, atol, rtol, max_rows):
    r"""Every input element j against the central difference of φ(x) = ⟨v, f(x)⟩:

        n[j] = (φ(x + ε e_j) − φ(x − ε e_j)) / (2ε),      pass if |a[j] − n[j]| ≤ atol + rtol·|n[j]|

    A failing element is a kink, not a mismatch, when ``_is_kink`` says so.  Returns
    (failure or None, the kinks as [(input position, element index)]).
    """
    phi = _phi(fn, inputs, vs)
    mismatches, kinks = [], []
    for i, a in zip(checked, analytic):
        x = inputs[i].data
        for j in np.ndindex(*x.shape):
            phi_plus, phi_minus = _nudged(lambda: _phi(fn, inputs, vs), x, j, eps)
            numeric = (phi_plus - phi_minus) / (2 * eps)
            if _close(a[j], numeric, atol, rtol):
                continue
            if _is_kink(a[j], phi_plus, phi, phi_minus, eps, atol, rtol):
                kinks.append((i, j))
            else:
                mismatches.append((abs(a[j] - numeric), i, j, a[j], numeric))
    if not mismatches:
        return None, kinks
    mismatches.sort(reverse=True)
    rows = [(i, j, a, n) for _, i, j, a, n in mismatches[:max_rows]]
    return _table(rows, f"gradcheck failed: {len(mismatches)} element(s) differ "
                        f"(atol={atol}, rtol={rtol}, eps={eps}); worst first:"), kinks


def _check_jacobian(fn, inputs, checked, out_shape, eps, atol, rtol, kinks):
    r"""Every entry of every Jacobian J_i = ∂y/∂x_i of a small single output y:

        analytic row k  e_kᵀ J_i           one backward with the one-hot upstream gradient e_k
        numeric         J_i[k, j] = (y_k(x + ε e_j) − y_k(x − ε e_j)) / (2ε)

    skipping the kinks; pass if |analytic − numeric| ≤ atol + rtol·|numeric| for each entry.
    """
    for k in np.ndindex(*out_shape):
        onehot = np.zeros(out_shape)
        onehot[k] = 1.0
        for i, row in zip(checked, _vjp(fn, inputs, checked, [onehot])):
            x = inputs[i].data
            for j in np.ndindex(*x.shape):
                if (i, j) in kinks:
                    continue
                y_plus, y_minus = _nudged(lambda: _output_element(fn, inputs, k), x, j, eps)
                numeric = (y_plus - y_minus) / (2 * eps)
                if not _close(row[j], numeric, atol, rtol):
                    return _table([(i, f"d y{k} / d x{j}", row[j], numeric)],
                                  "gradcheck failed on the full Jacobian:")
    return None


# ---- the pieces the checks share ----------------------------------------------------------------

def _outputs(fn, inputs):
    """The Tensor outputs of ``fn(*inputs)`` as a list (non-Tensor outputs are dropped)."""
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor)]


def _phi(fn, inputs, vs):
    """φ(x) = ⟨v, f(x)⟩ = Σ_outputs Σ v ⊙ y, in float64, without recording a graph."""
    with no_grad():
        outputs = _outputs(fn, inputs)
    return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outputs, vs)))


def _output_element(fn, inputs, k):
    """y_k, element ``k`` of the (single) output, without recording a graph."""
    with no_grad():
        return float(_outputs(fn, inputs)[0].data[k])


def _vjp(fn, inputs, checked, vs):
    """a_i = vᵀ J_i = ∂⟨v, f(x)⟩/∂x_i for each checked input, by one backward through ⟨v, f(x)⟩."""
    for i in checked:
        inputs[i].grad = None
    live = [(o, v) for o, v in zip(_outputs(fn, inputs), vs) if o.requires_grad]
    if not live:
        raise GradcheckError("gradcheck: no output requires grad; the function is not connected to its inputs")
    total = None
    for o, v in live:
        term = (o * Tensor(v.astype(o.dtype))).sum()
        total = term if total is None else total + term
    total.backward()
    return [np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad.data.astype(np.float64)
            for i in checked]


def _nudged(evaluate, x, j, eps):
    """(evaluate() at x[j] + ε, evaluate() at x[j] − ε), changing ``x`` in place and restoring it."""
    old = x[j]
    x[j] = old + eps
    plus = evaluate()
    x[j] = old - eps
    minus = evaluate()
    x[j] = old
    return plus, minus


def _is_kink(a, phi_plus, phi, phi_minus, eps, atol, rtol):
    r"""Whether f has a kink here and ``a`` is a subgradient: the one-sided slopes

        d₊ = (φ(x + ε e_j) − φ(x)) / ε,    d₋ = (φ(x) − φ(x − ε e_j)) / ε

    differ by more than tol = atol + rtol·max(|d₊|, |d₋|), and a lies between them (within tol).
    """
    d_plus, d_minus = (phi_plus - phi) / eps, (phi - phi_minus) / eps
    tol = atol + rtol * max(abs(d_plus), abs(d_minus))
    return abs(d_plus - d_minus) > tol and min(d_plus, d_minus) - tol <= a <= max(d_plus, d_minus) + tol


def _close(analytic, numeric, atol, rtol):
    """|analytic − numeric| ≤ atol + rtol·|numeric|."""
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _table(rows, title):
    """The failure report: one line per (input, index, analytic, numeric) row."""
    head = f"{'input':>5}  {'index':<16}{'analytic':>14}{'numeric':>14}{'abs err':>11}{'rel err':>11}"
    lines = [title, head]
    for i, idx, a, n in rows:
        err = abs(a - n)
        lines.append(f"{i:>5}  {str(idx):<16}{a:>14.6g}{n:>14.6g}{err:>11.3g}{err / max(abs(n), 1e-12):>11.3g}")
    return "\n".join(lines)
