"""Reverse-mode backward pass over the recorded graph.

Given a root y and its upstream gradient g = dL/dy, the chain rule says that every node's
input gradient is the sum over the uses of that input of its vector-Jacobian products.
So the engine

1. walks the graph from the root once (an explicit stack, never recursion, so a
   10 000-op chain is fine) and counts, for each node, how many consumers feed it;
2. processes nodes in topological order (a node runs only after all its consumers
   have added their contributions), calling ``Function.backward`` once per node;
3. sends each returned gradient, reduced with ``sum_to`` to the input's shape, either to
   the node that produced the input or, for a leaf, into ``leaf.grad`` (accumulating).

Unless ``retain_graph=True``, each node's saved arrays are freed after use; a second
backward through the same node raises ``RuntimeError``.
"""
import numpy as np

from .grad_mode import no_grad
from .sum_to import sum_to


def _collect(root_node):
    """Return the nodes reachable from ``root_node`` and the number of consumers of each."""
    consumers = {root_node: 0}
    stack = [root_node]
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if t is None or t.grad_fn is None:
                continue
            child = t.grad_fn
            if child in consumers:
                consumers[child] += 1
            else:
                consumers[child] = 1
                stack.append(child)
    return consumers


def _accumulate_leaf(leaf, grad):
    from .tensor import Tensor  # here, not at the top: tensor.py imports this module (a cycle)

    grad = np.asarray(grad, dtype=leaf.data.dtype)
    if grad.shape != leaf.data.shape:
        grad = sum_to(grad, leaf.data.shape)
    if leaf.grad is None:
        leaf.grad = Tensor(np.array(grad, copy=True))
    else:
        leaf.grad.data = leaf.grad.data + grad


def run_backward(root, gradient, retain_graph=False):
    """Backpropagate ``gradient`` (an array shaped like ``root``) through ``root``'s graph."""
    if root.grad_fn is None:
        if root.requires_grad:
            _accumulate_leaf(root, gradient)
            return
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    pending = _collect(root.grad_fn)
    grads = {root.grad_fn: gradient}
    ready = [root.grad_fn]
    with no_grad():
        while ready:
            node = ready.pop()
            g = grads.pop(node)
            if node.ctx._freed:
                node.ctx.saved_tensors  # raises the "backward through the graph a second time" error
            if node.retained is not None:
                _accumulate_leaf(node.retained, g)
            in_grads = node.function.backward(node.ctx, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) < len(node.inputs):
                raise RuntimeError(
                    f"{node.function.__name__}.backward returned {len(in_grads)} gradients, "
                    f"expected {len(node.inputs)} (one per forward argument)"
                )
            if not retain_graph:
                node.ctx.free()
            for t, ig in zip(node.inputs, in_grads):
                if t is None or ig is None:
                    continue
                ig = np.asarray(ig)
                if ig.dtype != t.data.dtype:
                    ig = ig.astype(t.data.dtype)
                if ig.shape != t.data.shape:
                    ig = sum_to(ig, t.data.shape)
                child = t.grad_fn
                if child is None:
                    _accumulate_leaf(t, ig)
                    continue
                grads[child] = grads[child] + ig if child in grads else ig
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
