"""Reference fixtures for ``minitune.nn``: cross-entropy in every option combination, softmax,
nll_loss, BatchNorm2d's module logic, a whole reduced-width ResNet-18 (forward, loss,
every gradient, running statistics), and the facts of the case tables in ``tests/nn_cases.py``
(init gains, fans and spreads, Module key orders, reprs, error messages), all computed by torch.

Run: ``python tools/make_references.py nn``.
"""
import itertools
import pathlib
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from references._torch_resnet import resnet18

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"))
import nn_cases  # noqa: E402

N, C = 5, 4
CLASS_WEIGHT = [1.0, 2.0, 0.5, 1.5]


def _logits(gen, shape, dtype=torch.float64):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * 2).to(dtype)


def _class_targets(gen, shape, ignore):
    t = torch.randint(0, C, shape, generator=gen)
    if ignore == "some":
        t.view(-1)[::3] = -100
    elif ignore == "all":
        t.fill_(-100)
    return t


def _ce_case(save, name, x, target, weight, reduction, smoothing):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(x, target, weight=weight, reduction=reduction, label_smoothing=smoothing)
    upstream = torch.randn(loss.shape, generator=torch.Generator().manual_seed(7), dtype=loss.dtype)
    (loss * upstream).sum().backward()
    save(name, input=x.detach().numpy(), target=target.numpy(),
         weight=np.zeros(0) if weight is None else weight.numpy(), reduction=np.array(reduction),
         label_smoothing=np.array(smoothing), loss=loss.detach().numpy(), upstream=upstream.numpy(),
         grad=x.grad.numpy())


def make_cross_entropy(save):
    """ce_<targets>_<weight>_<reduction>_ls<ε>: class indices (none/some/all ignored) or probabilities."""
    gen = torch.Generator().manual_seed(0)
    weights = {"nw": None, "w": torch.tensor(CLASS_WEIGHT, dtype=torch.float64)}
    options = list(itertools.product(weights, ("none", "mean", "sum"), (0.0, 0.2)))
    for ignore in ("keep", "some", "all"):
        for wname, reduction, eps in options:
            x = _logits(gen, (N, C))
            target = _class_targets(gen, (N,), ignore)
            _ce_case(save, f"ce_index{ignore}_{wname}_{reduction}_ls{eps}", x, target, weights[wname], reduction, eps)
    for wname, reduction, eps in options:
        x = _logits(gen, (N, C))
        probs = torch.softmax(torch.randn(N, C, generator=gen, dtype=torch.float64), dim=1)
        _ce_case(save, f"ce_prob_{wname}_{reduction}_ls{eps}", x, probs, weights[wname], reduction, eps)
    # (N, C, d) inputs: the class axis is 1, the loss has shape (N, d) with reduction='none'.
    for wname, reduction in (("w", "none"), ("w", "mean"), ("nw", "mean")):
        x = _logits(gen, (3, C, 2))
        _ce_case(save, f"ce_spatial_{wname}_{reduction}", x, _class_targets(gen, (3, 2), "some"),
                 weights[wname], reduction, 0.1)
    # float32 logits, large values (the max-shift must keep it finite).
    x = _logits(gen, (N, C), torch.float32) * 40
    _ce_case(save, "ce_float32_large", x, _class_targets(gen, (N,), "keep"), None, "mean", 0.0)


def make_softmax_nll(save):
    gen = torch.Generator().manual_seed(1)
    for dim in (0, 1, -1):
        x = _logits(gen, (3, 4)).requires_grad_(True)
        g = torch.randn(3, 4, generator=gen, dtype=torch.float64)
        ls, sm = F.log_softmax(x, dim), F.softmax(x, dim)
        gx_ls, = torch.autograd.grad(ls, x, g)
        gx_sm, = torch.autograd.grad(sm, x, g)
        save(f"softmax_dim{dim}", input=x.detach().numpy(), dim=np.array(dim), upstream=g.numpy(),
             log_softmax=ls.detach().numpy(), softmax=sm.detach().numpy(), grad_log_softmax=gx_ls.numpy(),
             grad_softmax=gx_sm.numpy())
    w = torch.tensor(CLASS_WEIGHT, dtype=torch.float64)
    for wname, reduction in (("nw", "mean"), ("w", "mean"), ("w", "sum"), ("w", "none")):
        logp = F.log_softmax(_logits(gen, (N, C)), 1).detach().requires_grad_(True)
        target = _class_targets(gen, (N,), "some")
        weight = w if wname == "w" else None
        loss = F.nll_loss(logp, target, weight=weight, reduction=reduction)
        g = torch.randn(loss.shape, generator=gen, dtype=torch.float64)
        gx, = torch.autograd.grad(loss, logp, g)
        save(f"nll_{wname}_{reduction}", input=logp.detach().numpy(), target=target.numpy(),
             weight=np.zeros(0) if weight is None else weight.numpy(), reduction=np.array(reduction),
             loss=loss.detach().numpy(), upstream=g.numpy(), grad=gx.numpy())


def make_batchnorm_module(save):
    """BatchNorm2d as a module: momentum 0.1 and None over two training batches, then eval."""
    gen = torch.Generator().manual_seed(2)
    x1 = torch.randn(3, 2, 4, 5, generator=gen, dtype=torch.float64)
    x2 = torch.randn(3, 2, 4, 5, generator=gen, dtype=torch.float64) * 3 + 1
    for name, momentum in (("momentum0.1", 0.1), ("momentum_none", None)):
        bn = torch.nn.BatchNorm2d(2, momentum=momentum).double()
        with torch.no_grad():
            bn.weight.copy_(torch.tensor([1.5, -0.5]))
            bn.bias.copy_(torch.tensor([0.2, 0.3]))
            y1, y2 = bn(x1), bn(x2)
            bn.eval()
            y_eval = bn(x1)
        save(f"bn_{name}", x1=x1.numpy(), x2=x2.numpy(), weight=bn.weight.detach().numpy(),
             bias=bn.bias.detach().numpy(), y1=y1.numpy(), y2=y2.numpy(), y_eval=y_eval.numpy(),
             running_mean=bn.running_mean.numpy(), running_var=bn.running_var.numpy(),
             num_batches_tracked=bn.num_batches_tracked.numpy())


RESNET_WIDTH, RESNET_CLASSES, RESNET_INPUT = 4, 5, (2, 3, 40, 40)


def _coarse(t):
    """``t`` rounded to 6 significant bits and then to float16: exact in float16 and float32, and
    the float16 bytes compress well (the weights are inputs; their precision does not matter)."""
    mantissa, exponent = np.frexp(t.double().numpy())
    rounded = np.ldexp(np.round(mantissa * 64) / 64, exponent).astype(np.float16)
    return torch.from_numpy(rounded.astype(np.float32))


def make_resnet(save):
    """A width-4 ResNet-18 (full topology and key names): the state it starts from, eval logits,
    train-mode logits, the loss, every parameter's gradient and the running statistics after.

    Size: the weights and the input are rounded to 6 significant bits and stored as float16
    (exact; see ``_coarse``) so that the fixture with all 62 gradients stays under 300 KB.  BatchNorm weights,
    biases and running statistics are randomized so that a swapped γ/β or mean/var shows.
    """
    torch.manual_seed(0)
    model = resnet18(num_classes=RESNET_CLASSES, width=RESNET_WIDTH)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(3)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith("running_mean") or (name.endswith(".bias") and "fc" not in name):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            elif ".bn" in name or "downsample.1" in name or name.startswith("bn1"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)  # BN γ
            if t.is_floating_point():
                t.copy_(_coarse(t))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = _coarse(torch.randn(*RESNET_INPUT, generator=gen))
    target = torch.randint(0, RESNET_CLASSES, (RESNET_INPUT[0],), generator=gen)

    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
    model.train()
    logits_train = model(x)
    loss = F.cross_entropy(logits_train, target)
    loss.backward()

    arrays = {"input": x.half().numpy(), "target": target.numpy(), "logits_eval": logits_eval.numpy(),
              "logits_train": logits_train.detach().numpy(), "loss": loss.detach().numpy(),
              "width": np.array(RESNET_WIDTH), "num_classes": np.array(RESNET_CLASSES),
              "state_keys": np.array(list(state)), "parameter_keys": np.array([k for k, _ in model.named_parameters()])}
    for k, v in state.items():
        arrays["state/" + k] = v.half().numpy() if v.is_floating_point() else v.numpy()
    for k, p in model.named_parameters():
        arrays["grad/" + k] = p.grad.numpy()
    for k, v in model.state_dict().items():
        if "running" in k or "num_batches" in k:
            arrays["after/" + k] = v.numpy()
    save("resnet18_width4", **arrays)


def _strings(values):
    return np.array([str(v) for v in values])


def _error(call, *args):
    """[exception class name, message] of what torch raises for ``call(*args)``."""
    refusal = nn_cases.error_message(call, *args)
    if refusal is None:
        raise AssertionError(f"torch accepted {call}")
    return _strings(refusal)


def make_init_facts(save):
    """init_facts: calculate_gain, fans, the spread of every initializer on a large weight (sample
    std, mean and max |w|, each case seeded by its name), default layer init, error messages."""
    init = torch.nn.init
    arrays = {"gains": np.array([init.calculate_gain(name, param) for name, param in nn_cases.GAINS])}
    for shape in nn_cases.FAN_SHAPES:
        key = "x".join(map(str, shape))
        arrays[f"fans/{key}"] = np.array(init._calculate_fan_in_and_fan_out(torch.zeros(shape)))
    for case, function, kwargs in nn_cases.INITIALIZERS:
        gen = torch.Generator().manual_seed(zlib.crc32(case.encode()))
        w = getattr(init, function)(torch.zeros(nn_cases.SPREAD_SHAPE, dtype=torch.float64), generator=gen, **kwargs)
        arrays[f"spread/{case}"] = np.array([w.std().item(), w.mean().item(), w.abs().max().item()])
    for case, make_layer in nn_cases.DEFAULT_INIT:
        torch.manual_seed(zlib.crc32(case.encode()))
        layer = make_layer(torch.nn)
        w, b = layer.weight.detach().double(), layer.bias.detach().double()
        arrays[f"default/{case}"] = np.array([w.std().item(), w.abs().max().item(), b.abs().max().item()])
    for case, call in nn_cases.INIT_ERRORS:
        arrays[f"error/{case}"] = _error(call, init, torch)
    save("init_facts", **arrays)


def make_module_facts(save):
    """module_facts: nn.Module's traversal orders, state_dict keys, repr and load_state_dict
    reports for ``nn_cases.make_net``, and what a shared parameter and a missing attribute give."""
    torch.manual_seed(0)
    net = nn_cases.make_net(torch.nn, torch)
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    shared = torch.nn.Linear(2, 2)
    seq = torch.nn.Sequential(shared, torch.nn.ReLU(), shared)
    state = net.state_dict()
    del state["fc.bias"]
    state["fc.extra"] = torch.zeros(1)
    not_strict = net.load_state_dict(state, strict=False)
    counter = net.state_dict()["features.0.bn.num_batches_tracked"]
    save("module_facts", repr=np.array(repr(net)),
         state_dict_keys=_strings(net.state_dict()), parameter_names=_strings(n for n, _ in net.named_parameters()),
         buffer_names=_strings(n for n, _ in net.named_buffers()), module_names=_strings(n for n, _ in net.named_modules()),
         child_names=_strings(n for n, _ in net.named_children()), apply_order=_strings(visited),
         counter_dtype=np.array(counter.numpy().dtype.name), counter_shape=np.array(counter.shape, dtype=np.int64),
         mismatch_error=_error(net.load_state_dict, nn_cases.mismatched_state(net, torch)),
         not_strict_missing=_strings(not_strict.missing_keys), not_strict_unexpected=_strings(not_strict.unexpected_keys),
         shared_parameter_count=np.array(len(list(seq.parameters()))), shared_state_dict_size=np.array(len(seq.state_dict())),
         missing_attribute_error=_error(getattr, torch.nn.Linear(2, 2), "missing"),
         replaced_children=_strings(nn_cases.replaced_order(torch.nn)[0]),
         replaced_parameters=_strings(nn_cases.replaced_order(torch.nn)[1]))


def make_layer_facts(save):
    """layer_facts: the repr of every layer of ``nn_cases.REPRS`` and torch's refusals of ``LAYER_ERRORS``."""
    arrays = {f"repr/{case}": np.array(repr(make_layer(torch.nn))) for case, make_layer in nn_cases.REPRS}
    for case, call in nn_cases.LAYER_ERRORS:
        arrays[f"error/{case}"] = _error(call, torch.nn, torch)
    save("layer_facts", **arrays)


def make(save):
    make_cross_entropy(save)
    make_softmax_nll(save)
    make_batchnorm_module(save)
    make_resnet(save)
    make_init_facts(save)
    make_module_facts(save)
    make_layer_facts(save)
