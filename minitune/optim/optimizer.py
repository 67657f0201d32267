"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and torch's ``state_dict`` layout.

An optimizer holds

* ``param_groups`` — a list of dicts, each ``{"params": [Tensor, ...], "lr": ..., <hyperparameters>}``.
  A group gets every default it does not set itself, so one optimizer can give the pretrained
  backbone ``lr=1e-3`` and the new head ``lr=1e-2``::

      SGD([{"params": backbone_params}, {"params": head_params, "lr": 1e-2}], lr=1e-3, momentum=0.9)

* ``state`` — a dict keyed by the parameter itself (a ``defaultdict(dict)``), holding e.g.
  ``momentum_buffer`` or ``step``/``exp_avg``/``exp_avg_sq``, as Tensors, like torch.
* ``defaults`` — the constructor's hyperparameters.

``step()`` updates ``p.data`` in place for every parameter whose ``p.grad`` is not None; a parameter
whose grad is None is skipped entirely (no weight decay, no momentum, no state), as in torch.

``state_dict()`` has torch's layout::

    {"state": {0: {"momentum_buffer": Tensor}, ...},
     "param_groups": [{"lr": 0.001, "momentum": 0.9, ..., "params": [0, 1, 2]}, ...]}

where parameters are replaced by their index in the order of ``param_groups``.  Difference from
torch: ``state_dict()`` and ``load_state_dict()`` *copy* every array (torch returns references
and relies on ``torch.save`` to copy), so a saved dict never changes when training goes on and
a resumed run continues bit-identically.
"""
import copy
import functools
from collections import defaultdict
from itertools import chain

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor


class _RequiredParameter:
    """Marks a hyperparameter without default (torch's ``torch.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _python_number(value):
    """A numpy scalar (or a tuple of them, like ``betas``) as Python numbers; anything else unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple) and any(isinstance(v, np.generic) for v in value):
        return tuple(v.item() if isinstance(v, np.generic) else v for v in value)
    return value


def _mark_step_called(step):
    """Wrap a subclass's ``step``: an LR scheduler can tell whether it ran (torch warns otherwise),
    every gradient's shape and dtype are checked, and the hyperparameters reach ``step`` as Python
    numbers, as in torch.

    Why the conversion: ``np.float64(0.1) * float32_array`` is a float64 array (numpy promotes), while
    ``0.1 * float32_array`` stays float32.  A learning rate set from a numpy computation (a schedule, a
    config file read with numpy) would silently turn a float32 update into a float64 one."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        for group in self.param_groups:
            for key, value in group.items():
                if key != "params":
                    group[key] = _python_number(value)
            for p in group["params"]:  # a gradient of the wrong shape or dtype is an error before any update
                if p.grad is not None:
                    self._grad_of(p)
        return step(self, *args, **kwargs)

    wrapper._marks_step_called = True
    return wrapper


def _copy_state_value(value):
    """A deep copy of one state entry: Tensors get a fresh array, containers are rebuilt."""
    if isinstance(value, Tensor):
        return Tensor._wrap(value.data.copy())
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy_state_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state_value(v) for v in value)
    return copy.deepcopy(value)


class Optimizer:
    """Base class: subclasses set ``defaults`` through ``__init__`` and implement ``step``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_step_called", False):
            cls.step = _mark_step_called(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(dict(param_group))

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ---- parameter groups -----------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Append a group; hyperparameters it does not set come from ``defaults``.

        A parameter may belong to one group only: a second appearance raises
        ``ValueError("some parameters appear in more than one parameter group")`` (e.g. passing
        ``model.parameters()`` *and* ``model.fc.parameters()``; split ``named_parameters()`` instead).
        Difference from torch: the same parameter twice *within* one group is a ``ValueError`` here
        (torch only warns that it "will cause an error" in future, and then steps it twice).
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if param.data.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating-point Tensors, but one has dtype {param.dtype}")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (default) or to zeros in place.

        The difference matters: ``step()`` skips a parameter whose grad is None, but a zero grad
        is a real step — with momentum the buffer keeps moving the parameter by ``-lr·μ·b``
        even though its gradient is 0 (torch-semantics §5.6, the "frozen but still moving" trap).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.grad_fn = None
                    p.grad.requires_grad = False
                    p.grad.data[...] = 0

    @staticmethod
    def _grad_of(p):
        """``p.grad.data``, checked against the parameter's shape and dtype."""
        grad = p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
        if grad.shape != p.data.shape:
            raise ValueError(f"a parameter of shape {p.shape} has a gradient of shape {grad.shape}")
        if grad.dtype != p.data.dtype:
            raise TypeError(f"a parameter of dtype {p.dtype} has a gradient of dtype {grad.dtype}")
        return grad

    def _evaluate_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):
        raise NotImplementedError

    # ---- checkpoints ----------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, deep-copied."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for key, value in self.state.items():
            state[index_of[id(key)] if isinstance(key, Tensor) else key] = _copy_state_value(value)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict from ``state_dict()`` (ours or torch's, with arrays as Tensors or numpy arrays).

        Groups are matched by position and parameters by order, as in torch; floating-point state
        is cast to its parameter's dtype, except ``step``.  Everything is copied.
        """
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, (Tensor, np.ndarray)):
                array = np.array(value.data if isinstance(value, Tensor) else value)  # a copy
                if key != "step" and array.dtype.kind == "f":
                    array = array.astype(param.data.dtype, copy=False)
                return Tensor._wrap(array)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return copy.deepcopy(value)

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                if isinstance(v, dict):
                    for name, entry in v.items():
                        shape = getattr(entry, "shape", None)
                        if name != "step" and shape is not None and tuple(shape) != param.shape:
                            raise ValueError(f"loaded state {name!r} of parameter {k} has shape {tuple(shape)}, "
                                             f"expected the parameter's shape {param.shape}")
                state[param] = cast(param, v)
            else:
                state[k] = _copy_state_value(v)
        param_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            param_groups.append(saved)
        self.state = state
        self.param_groups = param_groups
        self._after_load_state_dict()

    def _after_load_state_dict(self):
        """Hook for subclasses to fix up loaded groups (torch's ``__setstate__``)."""
