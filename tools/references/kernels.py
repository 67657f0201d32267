"""Reference fixtures for the kernels layer: conv2d, pooling, batch_norm, linear (torch 2.13.0).

Each case stores its inputs, a random upstream gradient ``g`` and torch's outputs and input
gradients, in float64 and float32 (suffix ``_f64`` / ``_f32``).  The conv2d cases are the
table ``tests/conv_cases.py`` and the pooling cases ``tests/pooling_cases.py``, each read both
here and by the tests.
"""
import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
import conv_cases  # noqa: E402
import pooling_cases  # noqa: E402 - the pooling table, shared with the tests

DTYPES = {"f64": torch.float64, "f32": torch.float32}


def _np(t):
    return t.detach().numpy().copy()


def _conv(save):
    for name in conv_cases.names("fixture"):
        N, C, H, W, O, k, s, p, d, groups, bias, _ = conv_cases.CASES[name]
        for tag, dt in DTYPES.items():
            gen = torch.Generator().manual_seed(conv_cases.seed(name))
            x = torch.randn(N, C, H, W, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
            w = torch.randn(O, C // groups, *k, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
            b = torch.randn(O, generator=gen, dtype=torch.float64).to(dt).requires_grad_() if bias else None
            y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=groups)
            g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
            y.backward(g)
            arrays = dict(x=_np(x), w=_np(w), g=_np(g), y=_np(y), gx=_np(x.grad), gw=_np(w.grad))
            if bias:
                arrays.update(b=_np(b), gb=_np(b.grad))
            save(f"conv2d_{name}_{tag}", **arrays)


def _pool(kind, x, kwargs):
    """torch's pooling ``kind`` on x: (y, indices or None)."""
    if kind in ("max_pool2d", "adaptive_max_pool2d"):
        return getattr(F, kind)(x, **kwargs, return_indices=True)
    return getattr(F, kind)(x, **kwargs), None


def _pools(save):
    """Every case of ``tests/pooling_cases.py`` (one table for torch and the tests), then torch's rules."""
    for kind, cases in pooling_cases.KINDS.items():
        for name, (shape, args) in cases.items():
            kwargs = args if isinstance(args, dict) else dict(output_size=args)
            for tag, dt in DTYPES.items():
                gen = torch.Generator().manual_seed(pooling_cases.seed(name))
                x = torch.randn(shape, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
                y, idx = _pool(kind, x, kwargs)
                g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
                y.backward(g)
                extra = {} if idx is None else {"indices": idx.numpy()}
                save(f"{kind}_{name}_{tag}", x=_np(x), g=_np(g), y=_np(y), gx=_np(x.grad), **extra)
    for name, (kind, array, kwargs) in pooling_cases.RULE_CASES.items():
        gen = torch.Generator().manual_seed(pooling_cases.seed(name))
        x = torch.tensor(array, dtype=torch.float64, requires_grad=True)
        y, idx = _pool(kind, x, kwargs)
        g = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        y.backward(g)
        extra = {} if idx is None else {"indices": idx.numpy()}
        if kind == "max_pool2d":  # and without grad or indices, the call inference makes
            with torch.no_grad():
                extra["y_no_grad"] = _np(F.max_pool2d(x.detach(), **kwargs))
        save(f"pool_rule_{name}", x=_np(x), g=_np(g), y=_np(y), gx=_np(x.grad), **extra)


def _batch_norm(save):
    """Three training steps of nn.BatchNorm2d (momentum 0.1 and None), then one eval step."""
    for mname, momentum in (("momentum", 0.1), ("cumulative", None)):
        for tag, dt in DTYPES.items():
            gen = torch.Generator().manual_seed(11)
            bn = torch.nn.BatchNorm2d(3, momentum=momentum).to(dt)
            with torch.no_grad():
                bn.weight.copy_(torch.randn(3, generator=gen, dtype=torch.float64))
                bn.bias.copy_(torch.randn(3, generator=gen, dtype=torch.float64))
            arrays = dict(weight=_np(bn.weight), bias=_np(bn.bias))
            for step in range(3):
                x = (torch.randn(4, 3, 5, 6, generator=gen, dtype=torch.float64) * 2 + 1).to(dt).requires_grad_()
                bn.zero_grad()
                y = bn(x)
                g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
                y.backward(g)
                arrays.update({f"x{step}": _np(x), f"g{step}": _np(g), f"y{step}": _np(y), f"gx{step}": _np(x.grad),
                               f"gw{step}": _np(bn.weight.grad), f"gb{step}": _np(bn.bias.grad),
                               f"running_mean{step}": _np(bn.running_mean), f"running_var{step}": _np(bn.running_var)})
            bn.eval()
            bn.zero_grad()
            x = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
            y = bn(x)
            g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
            y.backward(g)
            arrays.update(x_eval=_np(x), g_eval=_np(g), y_eval=_np(y), gx_eval=_np(x.grad),
                          gw_eval=_np(bn.weight.grad), gb_eval=_np(bn.bias.grad))
            save(f"batch_norm_{mname}_{tag}", **arrays)
    # 2-D (N, C) input, no affine, no running statistics
    for tag, dt in DTYPES.items():
        gen = torch.Generator().manual_seed(12)
        x = torch.randn(6, 4, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
        y = F.batch_norm(x, None, None, training=True)
        g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
        y.backward(g)
        save(f"batch_norm_2d_noaffine_{tag}", x=_np(x), g=_np(g), y=_np(y), gx=_np(x.grad))


def _linear(save):
    for tag, dt in DTYPES.items():
        gen = torch.Generator().manual_seed(13)
        x = torch.randn(2, 3, 5, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
        w = torch.randn(4, 5, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
        b = torch.randn(4, generator=gen, dtype=torch.float64).to(dt).requires_grad_()
        y = F.linear(x, w, b)
        g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
        y.backward(g)
        save(f"linear_{tag}", x=_np(x), w=_np(w), b=_np(b), g=_np(g), y=_np(y), gx=_np(x.grad), gw=_np(w.grad),
             gb=_np(b.grad))


def make(save):
    _conv(save)
    _pools(save)
    _batch_norm(save)
    _linear(save)
