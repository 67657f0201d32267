"""The differentiable tensor operations, one ``Function`` each, grouped by kind."""
