"""The array functions autograd calls where numpy's would be one thread over a large array.

autograd sits below the numba kernels (the README's layer chart: ``import minitune.autograd``
loads numpy alone), so its ops compute with numpy.  Where that is a single-threaded pass over
large arrays on the hot path of a network, the op calls the function here instead, numpy's by
default; ``minitune.nn.functional``, which loads the kernels, installs their multi-threaded
versions (``install``).  Each computes exactly what numpy's does, bit for bit, so the results do
not depend on whether it was installed.

    add(a, b, out=None)    a + b with numpy's broadcasting: ``Add.forward`` (a ResNet's residual
                           connections) and the engine's sums of two gradients for one tensor
"""
import numpy as np

_NUMPY = {"add": np.add}
add = np.add


def install(**functions):
    """``install(add=f)``: autograd calls f (same signature and results as ``np.add``) from now on."""
    for name, function in functions.items():
        if name not in _NUMPY:
            raise ValueError(f"install: no array function named {name!r}; expected one of {sorted(_NUMPY)}")
        globals()[name] = function


def uninstall():
    """Back to numpy's functions."""
    globals().update(_NUMPY)
