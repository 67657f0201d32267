"""``minitune.nn.functional``: differentiable ops, each a ``Function`` over a kernel."""
