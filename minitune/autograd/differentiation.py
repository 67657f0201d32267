"""``autograd.grad``: gradients of outputs with respect to chosen inputs, returned instead of
accumulated into ``.grad`` — as ``torch.autograd.grad``.

    grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None)

returns one array-backed Tensor per input: Σₖ (dyₖ/dx)ᵀ gₖ with gₖ = ``grad_outputs[k]`` (ones for a
one-element output).  No ``.grad`` attribute changes.  An input that no output depends on gives
``None`` when ``allow_unused=True`` and a ``RuntimeError`` otherwise.  Double backward
(``create_graph=True``: a graph of the backward pass itself) is not implemented: minitune's
``Function.backward`` computes on arrays, so it raises ``NotImplementedError``.
"""
import numpy as np

from .engine import run_backward


def check_create_graph(create_graph):
    if create_graph:
        raise NotImplementedError("create_graph=True (double backward, a graph of the backward pass) is not "
                                  "supported by minitune: Function.backward computes on numpy arrays")


def check_inputs(inputs, where):
    from .tensor import Tensor  # here, not at the top: tensor.py's backward() calls this module (a cycle)

    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError(f"{where}: inputs must not be empty")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"{where}: one of the inputs does not require grad")
    return inputs


def output_gradient(output, gradient, where):
    """The upstream gradient for ``output`` as an array: ones for a one-element output when None."""
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this tensor has "
                               f"shape {output.shape}, so pass the gradient of the same shape to {where}")
        return np.ones(output.data.shape, dtype=output.data.dtype)
    g = np.asarray(getattr(gradient, "data", gradient), dtype=output.data.dtype)
    if g.shape != output.data.shape:
        raise ValueError(f"{where}: gradient has shape {g.shape}, expected the output's shape {output.shape}")
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs`` (see the module docstring); a tuple of Tensors."""
    from .tensor import Tensor  # here, not at the top: tensor.py's backward() calls this module (a cycle)

    check_create_graph(create_graph)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported by minitune")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = check_inputs(inputs, "autograd.grad")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for y in outputs:
        if not isinstance(y, Tensor) or not y.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    gradients = [output_gradient(y, g, "autograd.grad") for y, g in zip(outputs, grad_outputs)]
    found = run_backward(outputs, gradients, retain_graph=bool(retain_graph), inputs=inputs, accumulate=False)
    result = []
    for t, g in zip(inputs, found):
        if g is None and materialize_grads:
            g = np.zeros(t.data.shape, dtype=t.data.dtype)
        if g is None and not (allow_unused or materialize_grads):
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
        result.append(None if g is None else Tensor._wrap(g))
    return tuple(result)
