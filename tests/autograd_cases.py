"""The autograd op table: one row per case, shared by ``tools/references/autograd.py``
(which evaluates it with torch) and ``tests/test_autograd_ops.py`` (with minitune).

Each case is (name, input shapes, domain, fn) where ``fn(lib, *inputs)`` is written once
and runs unchanged with ``lib = torch`` or ``lib = minitune`` — the API is the contract.
Domains: "real" ~ N(0, 1); "pos" ~ |N(0, 1)| + 0.5 (log, sqrt, division);
"ties" = small integers so that max/amax/maximum meet equal values.
"""

CASES = [
    # broadcasting binary arithmetic
    ("add", [(3, 4), (3, 4)], "real", lambda lib, a, b: a + b),
    ("add_broadcast", [(3, 1, 4), (2, 4)], "real", lambda lib, a, b: a + b),
    ("sub_broadcast", [(2, 3), (3,)], "real", lambda lib, a, b: a - b),
    ("rsub_scalar", [(2, 3)], "real", lambda lib, a: 2.5 - a),
    ("mul_broadcast", [(4, 1), (1, 5)], "real", lambda lib, a, b: a * b),
    ("mul_scalar", [(2, 3)], "real", lambda lib, a: a * 3.0),
    ("div_broadcast", [(2, 3, 4), (3, 1)], "pos", lambda lib, a, b: a / b),
    ("rdiv_scalar", [(5,)], "pos", lambda lib, a: 1.0 / a),
    ("pow_tensor", [(3, 4), (3, 4)], "pos", lambda lib, a, b: a ** b),
    ("pow_scalar", [(3, 4)], "real", lambda lib, a: a ** 3),
    ("pow_half", [(6,)], "pos", lambda lib, a: a ** 0.5),
    ("neg", [(2, 5)], "real", lambda lib, a: -a),
    ("maximum", [(3, 4), (4,)], "real", lambda lib, a, b: lib.maximum(a, b)),
    ("maximum_ties", [(4, 4), (4, 4)], "ties", lambda lib, a, b: lib.maximum(a, b)),
    ("where", [(3, 4), (3, 4)], "real", lambda lib, a, b: lib.where(a > 0, a, b)),
    ("where_broadcast", [(3, 4), (4,)], "real", lambda lib, a, b: lib.where(a > 0, a * 2, b)),
    # matrix products
    ("matmul_2d", [(3, 4), (4, 5)], "real", lambda lib, a, b: a @ b),
    ("matmul_batched", [(2, 3, 4), (2, 4, 5)], "real", lambda lib, a, b: a @ b),
    ("matmul_broadcast", [(2, 1, 3, 4), (3, 4, 2)], "real", lambda lib, a, b: a @ b),
    ("matmul_matvec", [(2, 3, 4), (4,)], "real", lambda lib, a, b: a @ b),
    ("matmul_vecmat", [(4,), (2, 4, 3)], "real", lambda lib, a, b: a @ b),
    ("matmul_dot", [(5,), (5,)], "real", lambda lib, a, b: a @ b),
    # elementwise
    ("exp", [(3, 4)], "real", lambda lib, a: a.exp()),
    ("log", [(3, 4)], "pos", lambda lib, a: a.log()),
    ("sqrt", [(3, 4)], "pos", lambda lib, a: a.sqrt()),
    ("abs", [(3, 4)], "real", lambda lib, a: a.abs()),
    ("relu", [(3, 4)], "real", lambda lib, a: a.relu()),
    ("sigmoid", [(3, 4)], "real", lambda lib, a: a.sigmoid()),
    ("tanh", [(3, 4)], "real", lambda lib, a: a.tanh()),
    ("clamp", [(4, 5)], "real", lambda lib, a: a.clamp(-0.5, 0.7)),
    ("clamp_min", [(4, 5)], "real", lambda lib, a: a.clamp(min=0.1)),
    ("clamp_tensor_bounds", [(4, 5), (4, 5), (5,)], "real", lambda lib, a, lo, hi: lib.clamp(a, min=lo, max=hi)),
    ("clamp_tensor_min", [(4, 5), (5,)], "real", lambda lib, a, lo: a.clamp(min=lo)),
    ("clamp_broadcast_bounds", [(5,), (3, 5)], "real", lambda lib, a, hi: a.clamp(max=hi)),
    ("maximum_binary_max", [(3, 4), (3, 4)], "ties", lambda lib, a, b: lib.max(a, b)),
    ("minimum_binary_min", [(3, 4), (4,)], "ties", lambda lib, a, b: lib.min(a, b)),
    # reductions
    ("sum_all", [(3, 4)], "real", lambda lib, a: a.sum()),
    ("sum_dim", [(2, 3, 4)], "real", lambda lib, a: a.sum(1)),
    ("sum_dims_keepdim", [(2, 3, 4)], "real", lambda lib, a: a.sum((0, 2), keepdim=True)),
    ("sum_negative_dim", [(2, 3, 4)], "real", lambda lib, a: a.sum(-1)),
    ("mean_all", [(3, 4)], "real", lambda lib, a: a.mean()),
    ("mean_dim_keepdim", [(2, 3, 4)], "real", lambda lib, a: a.mean(1, keepdim=True)),
    ("mean_dims", [(2, 3, 4)], "real", lambda lib, a: a.mean((0, 1))),
    ("amax_dim", [(3, 5)], "real", lambda lib, a: a.amax(1)),
    ("amax_ties", [(3, 5)], "ties", lambda lib, a: a.amax(1, keepdim=True)),
    ("amax_all_ties", [(3, 5)], "ties", lambda lib, a: a.amax()),
    ("max_all_ties", [(3, 5)], "ties", lambda lib, a: a.max()),
    ("max_dim_values", [(3, 5)], "real", lambda lib, a: a.max(1).values),
    ("max_dim_keepdim", [(3, 5)], "real", lambda lib, a: a.max(0, keepdim=True)[0]),
    ("min_dim_values", [(3, 5)], "real", lambda lib, a: a.min(1).values),
    ("min_dim_ties", [(4, 5)], "ties", lambda lib, a: lib.min(a, 0, keepdim=True)[0]),
    ("min_all_ties", [(3, 5)], "ties", lambda lib, a: a.min()),
    ("amin_ties", [(3, 5)], "ties", lambda lib, a: a.amin(1)),
    ("sum_dim_empty", [(2, 3)], "real", lambda lib, a: a.sum(dim=())),
    ("mean_dim_empty", [(2, 3)], "real", lambda lib, a: a.mean(dim=())),
    ("amax_dim_empty", [(2, 3)], "ties", lambda lib, a: a.amax(dim=())),
    # shape
    ("reshape", [(2, 6)], "real", lambda lib, a: a.reshape(3, 4) * lib.arange(4)),
    ("view", [(2, 3, 4)], "real", lambda lib, a: a.view(6, 4) * lib.arange(4)),
    ("flatten", [(2, 3, 4)], "real", lambda lib, a: a.flatten(1) * lib.arange(12)),
    ("transpose", [(2, 3, 4)], "real", lambda lib, a: a.transpose(0, 2) * lib.arange(2)),
    ("permute", [(2, 3, 4)], "real", lambda lib, a: a.permute(2, 0, 1) * lib.arange(3)),
    ("unsqueeze", [(3, 4)], "real", lambda lib, a: a.unsqueeze(1) * lib.arange(4)),
    ("squeeze", [(3, 1, 4)], "real", lambda lib, a: a.squeeze(1) * lib.arange(4)),
    ("expand", [(3, 1)], "real", lambda lib, a: a.expand(2, 3, 4) * lib.arange(4)),
    # indexing and joining
    ("getitem_slice", [(5, 6)], "real", lambda lib, a: a[1:4, ::2]),
    ("getitem_int", [(5, 6)], "real", lambda lib, a: a[2]),
    ("getitem_repeated", [(5, 3)], "real", lambda lib, a: a[lib.tensor([0, 2, 0, 4, 0])]),
    ("getitem_mixed", [(4, 5)], "real", lambda lib, a: a[lib.tensor([1, 1, 3]), lib.tensor([0, 4, 4])]),
    ("getitem_bool", [(4, 5)], "real", lambda lib, a: a[a > 0]),
    ("getitem_ellipsis", [(2, 3, 4)], "real", lambda lib, a: a[..., 1:3]),
    ("cat", [(2, 3), (4, 3)], "real", lambda lib, a, b: lib.cat([a, b], 0)),
    ("cat_dim1", [(2, 3), (2, 1)], "real", lambda lib, a, b: lib.cat([a, b, a], dim=1)),
    ("stack", [(2, 3), (2, 3)], "real", lambda lib, a, b: lib.stack([a, b], 1)),
    # a composite: softmax written from primitives, and a two-layer network
    ("softmax_composite", [(3, 5)], "real",
     lambda lib, a: (a - a.amax(1, keepdim=True)).exp() / (a - a.amax(1, keepdim=True)).exp().sum(1, keepdim=True)),
    ("mlp", [(4, 3), (5, 3), (5,)], "real", lambda lib, x, w, b: ((x @ w.T + b).tanh() ** 2).mean(0)),
]


def seed(name):
    """The seed of case ``name``: a hash of its name, so adding a case reseeds no other."""
    import zlib

    return zlib.crc32(name.encode())


def make_inputs(rng, shapes, domain):
    """Seeded float64 inputs for one case."""
    import numpy as np

    out = []
    for shape in shapes:
        if domain == "pos":
            out.append(np.abs(rng.standard_normal(shape)) + 0.5)
        elif domain == "ties":
            out.append(rng.integers(-2, 3, size=shape).astype(np.float64))
        else:
            out.append(rng.standard_normal(shape))
    return out
