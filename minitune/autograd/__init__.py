"""The autograd engine: ``Tensor``, ``Function``, the backward pass, ``grad`` and ``gradcheck``."""
from .creation import (arange, as_tensor, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .function import Context, Function, Node
from .free_functions import (abs, amax, amin, argmax, argmin, cat, clamp, clip, exp, flatten, is_tensor, log, matmul,
                             max, maximum, mean, min, minimum, permute, relu, reshape, sigmoid, sqrt, squeeze, stack,
                             sum, tanh, transpose, unsqueeze, where)
from .devices import device
from .differentiation import grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .sum_to import sum_to
from .dtypes import bool_, double, float, float16, float32, float64, int8, int16, int32, int64, long, uint8
from .tensor import Tensor
