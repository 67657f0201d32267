r"""Softmax, log-softmax and the losses built on them: ``cross_entropy`` and ``nll_loss``.

The lecture's cross-entropy for N samples, C classes, targets y (one row per sample, each
row a distribution over the classes) and predictions ŷ = softmax(x) is

    L = −(1/N) Σᵢ Σⱼ yᵢⱼ log ŷᵢⱼ,          ŷᵢⱼ = e^{xᵢⱼ} / Σₖ e^{xᵢₖ}.

Because log ŷᵢⱼ = xᵢⱼ − log Σₖ e^{xᵢₖ}, its gradient with respect to the *logits* x is short:

    ∂L/∂xᵢⱼ = (1/N) (sᵢ ŷᵢⱼ − yᵢⱼ),   sᵢ = Σⱼ yᵢⱼ,

which for one-hot (or any normalised) targets is the familiar (softmax − one-hot)/N.
``CrossEntropy`` below computes exactly this in one fused ``Function``: the forward keeps ŷ,
the backward is that one line.  Every torch option only changes the target rows yᵢ (called q
in the code) and the divisor N:

* class indices tᵢ:      qᵢⱼ = wⱼ · ((1 − ε)·[j = tᵢ] + ε/C),    qᵢ = 0 when tᵢ = ignore_index
* class probabilities:   qᵢⱼ = wⱼ · ((1 − ε)·yᵢⱼ + ε/C)           (ignore_index must stay −100)
* reduction='mean':      divide by Σ_{counted i} w_{tᵢ} for class indices (the count of non-ignored
                         rows without a weight), by N for probabilities (even with a weight)
* reduction='sum' / 'none':  no divisor / one loss per sample

(w = ``weight``, all ones if None; ε = ``label_smoothing``.)  These are torch's definitions
(``torch/nn/modules/loss.py``, ``aten/src/ATen/native/LossNLL.cpp``).

A corner case kept as torch has it: when every target is ``ignore_index`` the mean is 0/0 = **nan**,
while the gradient is 0 (ignored rows never contribute to it).
"""
import warnings

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _log_softmax(x, axis):
    """log softmax(x) = (x − m) − log Σ e^{x − m}, m = max(x): no overflow for large logits."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ − log Σⱼ e^{xⱼ} along ``dim``;   dL/dx = g − softmax(x) · Σⱼ gⱼ"""

    @staticmethod
    def forward(ctx, x, dim):
        y = _log_softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - np.exp(y) * g.sum(axis=ctx.dim, keepdims=True), None


class Softmax(Function):
    """yᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m} along ``dim`` (m = max x);   dL/dx = y ⊙ (g − Σⱼ gⱼ yⱼ)"""

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True)), None


def _softmax_dim(input, dim, name):  # noqa: A002 - torch's argument name
    """``dim`` as an axis; None takes torch's deprecated implicit choice (dim 0 for 0-, 1- and 3-D
    input, else 1) with torch's warning."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got {input.dtype}")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{name}: dim {dim} out of range for a tensor with {input.ndim} dimensions")
    return dim % nd if input.ndim else None


def log_softmax(input, dim=None):  # noqa: A002
    """log softmax(x) along ``dim`` (without ``dim``: torch's implicit choice and warning)."""
    return LogSoftmax.apply(input, _softmax_dim(input, dim, "log_softmax"))


def softmax(input, dim=None):  # noqa: A002
    """softmax(x) along ``dim`` (without ``dim``: torch's implicit choice and warning)."""
    return Softmax.apply(input, _softmax_dim(input, dim, "softmax"))


# ---- the target rows q and the divisor, shared by cross_entropy and nll_loss -------------------
def _class_rows(t, num_classes, weight, ignore_index, label_smoothing, dtype):
    """q (M, C) for class-index targets t (M,), the counted-row mask and Σ_{counted} w_{t}."""
    counted = t != ignore_index
    bad = counted & ((t < 0) | (t >= num_classes))
    if bad.any():
        raise ValueError(f"target {int(t[bad][0])} is out of bounds: class indices must lie in [0, {num_classes - 1}] "
                         f"(or equal ignore_index={ignore_index})")
    w = np.ones(num_classes, dtype=dtype) if weight is None else weight
    kept = np.flatnonzero(counted)  # the indices of the counted rows
    q = np.zeros((t.size, num_classes), dtype=dtype)
    q[kept, t[kept]] = (1.0 - label_smoothing) * w[t[kept]]
    if label_smoothing:
        q[kept] += label_smoothing * w / num_classes
    total_weight = w[t[kept]].sum(dtype=dtype)
    return q, counted, total_weight


def _prob_rows(y, weight, label_smoothing):
    """q (M, C) for class-probability targets y (M, C); every row counts and the divisor is M."""
    num_classes = y.shape[1]
    w = 1.0 if weight is None else weight
    q = w * ((1.0 - label_smoothing) * y + label_smoothing / num_classes)
    return q, np.ones(y.shape[0], dtype=bool), y.dtype.type(y.shape[0])


def _to_rows(x):
    """(N, C, d₁, …) → (N·d₁·…, C) with the class axis last; (C,) → (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(table, shape):
    """Inverse of ``_to_rows``: a (M, C) table back to ``shape`` (class axis 1)."""
    if len(shape) == 1:
        return table.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(table.reshape(moved), -1, 1)


def _reduce(per_row, reduction, divisor, batch_shape):
    """Per-row losses (M,) → the reduced loss, or per sample in the target's shape for 'none'."""
    if reduction == "none":
        return per_row.reshape(batch_shape)
    total = per_row.sum(dtype=per_row.dtype)
    if reduction == "sum":
        return np.asarray(total)
    if divisor == 0:  # no row counts (or every counted weight is 0): torch's 0/0 = nan, even with smoothing
        return np.asarray(np.nan, dtype=per_row.dtype)
    return np.asarray(total / divisor, dtype=per_row.dtype)


def _row_scale(g, reduction, divisor, num_rows):
    """dL/dlᵢ for each of the ``num_rows`` rows: the upstream g per sample ('none'), g ('sum') or g / divisor ('mean')."""
    if reduction == "none":
        return g.reshape(num_rows)
    if reduction == "mean" and divisor == 0:  # torch's 0/0: nan on every counted row (ignored rows stay 0)
        return np.full(num_rows, np.nan, dtype=g.dtype)
    return np.full(num_rows, g / divisor if reduction == "mean" else g, dtype=g.dtype)


class CrossEntropy(Function):
    r"""Fused softmax + cross-entropy (see the module docstring).

    forward:   ŷ = softmax(x) over classes;  lᵢ = −Σⱼ qᵢⱼ log ŷᵢⱼ;  then the reduction
    backward:  dL/dxᵢⱼ = (dL/dlᵢ) · (sᵢ ŷᵢⱼ − qᵢⱼ),  sᵢ = Σⱼ qᵢⱼ   (0 on ignored rows)
               dL/dyᵢⱼ = −(dL/dlᵢ) · (1 − ε) wⱼ log ŷᵢⱼ   (probability targets only)
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing, probabilities):
        # BEGIN SOLUTION A3: implement CrossEntropy.forward (log-softmax, per-row loss -sum_j q_ij log p_ij, the reduction)
        logits = _to_rows(x)
        if probabilities:
            q, counted, divisor = _prob_rows(_to_rows(target), weight, label_smoothing)
        else:
            q, counted, divisor = _class_rows(target.reshape(-1), logits.shape[1], weight, ignore_index,
                                              label_smoothing, x.dtype)
        logp = _log_softmax(logits, 1)
        with np.errstate(invalid="ignore"):  # a class with q = 0 adds 0, even at log p = -inf (a masked logit)
            per_row = -np.where(q != 0, q * logp, 0).sum(axis=1)
        target_scale = np.asarray((1.0 - label_smoothing) * (1.0 if weight is None else weight)) if probabilities else None
        ctx.save_for_backward(logp, q, counted, target_scale)
        ctx.shape, ctx.reduction, ctx.divisor = x.shape, reduction, divisor
        batch_shape = (x.shape[:1] + x.shape[2:]) if x.ndim > 1 else ()
        return _reduce(per_row, reduction, divisor, batch_shape)
        # END SOLUTION

    @staticmethod
    def backward(ctx, g):
        # BEGIN SOLUTION A3: implement CrossEntropy.backward, the fused gradient (s_i p_ij - q_ij) scaled by the reduction
        logp, q, counted, target_scale = ctx.saved_tensors
        scale = _row_scale(g, ctx.reduction, ctx.divisor, logp.shape[0])[:, None]
        s = q.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            dx = np.where(counted[:, None], scale * (s * np.exp(logp) - q), 0).astype(logp.dtype)
        dy = None
        if target_scale is not None and ctx.needs_input_grad[1]:
            dy = _from_rows(-scale * target_scale * logp, ctx.shape)
        return _from_rows(dx, ctx.shape), dy, None, None, None, None, None
        # END SOLUTION


class NLLLoss(Function):
    r"""Negative log-likelihood of log-probabilities x (``nll_loss``): the same rows q with ε = 0.

    forward:   lᵢ = −Σⱼ qᵢⱼ xᵢⱼ = −w_{tᵢ} x_{i,tᵢ};  then the reduction
    backward:  dL/dxᵢⱼ = −(dL/dlᵢ) · qᵢⱼ
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        logp = _to_rows(x)
        q, counted, divisor = _class_rows(target.reshape(-1), logp.shape[1], weight, ignore_index, 0.0, x.dtype)
        ctx.save_for_backward(q, counted)
        ctx.shape, ctx.reduction, ctx.divisor = x.shape, reduction, divisor
        with np.errstate(invalid="ignore"):  # a class with q = 0 adds 0, even where log p = -inf
            per_row = -np.where(q != 0, q * logp, 0).sum(axis=1)
        return _reduce(per_row, reduction, divisor, target.shape)

    @staticmethod
    def backward(ctx, g):
        q, counted = ctx.saved_tensors
        scale = _row_scale(g, ctx.reduction, ctx.divisor, q.shape[0])[:, None]
        with np.errstate(invalid="ignore"):
            dx = np.where(counted[:, None], -scale * q, 0).astype(q.dtype)
        return _from_rows(dx, ctx.shape), None, None, None, None


# ---- argument checking -------------------------------------------------------------------------
def _check_common(name, input, weight, reduction):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor of shape (N, C), got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point (logits), got dtype {input.dtype}")
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    num_classes = input.shape[0 if input.ndim == 1 else 1]
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (num_classes,) or w.dtype.kind not in "fiu":
        raise ValueError(f"{name}: weight must be a 1-D float tensor of length C={num_classes}, "
                         f"got shape {tuple(w.shape)} and dtype {w.dtype}")
    return w.astype(input.dtype)


def _class_target(name, input, target):  # noqa: A002
    t = target.data
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if t.shape != expected:
        raise ValueError(f"{name}: class-index target must have shape {expected} for input of shape {input.shape}, "
                         f"got {tuple(t.shape)}")
    return t.astype(np.int64, copy=False)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C[, d₁, …]) and ``target``, with torch's semantics.

        L = −(1/N) Σᵢ Σⱼ yᵢⱼ log softmax(x)ᵢⱼ,      ∂L/∂x = (softmax(x) − y) / N   (default options)

    ``target`` is either class indices (an integer tensor of shape (N[, d₁, …])) or class
    probabilities (a float tensor of the input's shape).  See the module docstring for the
    formula, the options and the gradient.  ``size_average``/``reduce`` are torch's deprecated
    arguments and must stay None.
    """
    if size_average is not None or reduce is not None:
        raise ValueError("cross_entropy: size_average and reduce are deprecated; use reduction='none'|'mean'|'sum'")
    w = _check_common("cross_entropy", input, weight, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy: target must be a Tensor, got {type(target).__name__}")
    kind = target.dtype.kind
    if kind in "iu":
        t = _class_target("cross_entropy", input, target)
        return CrossEntropy.apply(input, t, w, ignore_index, reduction, float(label_smoothing), False)
    if kind == "f":
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: a float target holds class probabilities and must have the input's "
                             f"shape {input.shape}, got {target.shape} (class indices must be an integer tensor)")
        if ignore_index != -100:
            raise ValueError(f"cross_entropy: ignore_index is not supported for class-probability (float) targets, "
                             f"got ignore_index={ignore_index}")
        target = target.to(input.dtype)
        return CrossEntropy.apply(input, target, w, ignore_index, reduction, float(label_smoothing), True)
    raise TypeError(f"cross_entropy: target must be int64 class indices or float class probabilities, "
                    f"got dtype {target.dtype}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """Negative log-likelihood: ``input`` holds log-probabilities (N, C[, d₁, …]), ``target`` class indices.

    lᵢ = −w_{tᵢ} · input[i, tᵢ]; mean divides by Σ_{counted i} w_{tᵢ}; ignore_index rows count 0.
    ``cross_entropy(x, t) == nll_loss(log_softmax(x, 1), t)``.
    """
    if size_average is not None or reduce is not None:
        raise ValueError("nll_loss: size_average and reduce are deprecated; use reduction='none'|'mean'|'sum'")
    w = _check_common("nll_loss", input, weight, reduction)
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        got = f"dtype {target.dtype}" if isinstance(target, Tensor) else type(target).__name__
        raise TypeError(f"nll_loss: target must be an integer tensor of class indices, got {got}")
    return NLLLoss.apply(input, _class_target("nll_loss", input, target), w, ignore_index, reduction)
