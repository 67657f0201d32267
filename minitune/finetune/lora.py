"""LoRA: low-rank adapters on ``Conv2d`` and ``Linear`` layers (Hu et al., 2021).

The pretrained weight W (out × in for a Linear, out × in × kh × kw for a Conv2d, seen as the
out × (in·kh·kw) matrix) stays frozen; the layer computes with

    W' = W + (α / r) · B · A        A: r × (in·kh·kw), B: out × r, reshaped to W's shape

and only A and B train.  At the start A is random (Kaiming-uniform, a = √5, as peft does) and
B = 0, so W' = W: the adapted model starts equal to the pretrained one.  A rank-r update of a
3×3 conv of c → c channels has r·(9c + c) parameters instead of 9c².

``merge_lora(model)`` folds each adapter into its weight (W ← W + (α/r)·B·A) and turns the layer
back into a plain ``Conv2d``/``Linear``, so the state_dict has exactly ResNet-18's keys and
``minitune weights export`` writes a ``.pth`` torchvision loads.  ``merged_state_dict(model)``
gives the same keys and values without changing the model (what a checkpoint stores).

Python API (stable): ``apply_lora(model, rank=4, alpha=None, skip=("fc",))`` (α defaults to r, so
α/r = 1) → the list of adapted layer names; ``merge_lora(model)``; ``merged_state_dict(model)``;
``LoRAConv2d``, ``LoRALinear``; ``lora_parameters(model)``.
"""
import collections
import math

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import Parameter, init
from ..nn import functional as F


class _LoRA:
    """The adapter shared by both layers: parameters ``lora_A``, ``lora_B`` and the scale α/r."""

    def _init_lora(self, rank, alpha):
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise ValueError(f"LoRA rank must be a positive int, got {rank!r}")
        self.rank, self.alpha = rank, float(rank if alpha is None else alpha)
        self.scaling = self.alpha / rank
        rows = self.weight.shape[0]
        cols = int(np.prod(self.weight.shape[1:]))
        self.lora_A = Parameter(np.empty((rank, cols), dtype=self.weight.data.dtype))
        self.lora_B = Parameter(np.zeros((rows, rank), dtype=self.weight.data.dtype))
        init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.weight.requires_grad_(False)

    def delta(self):
        """(α/r) · B · A, reshaped to the weight's shape (a Tensor in the autograd graph)."""
        return (self.lora_B @ self.lora_A).reshape(tuple(self.weight.shape)) * self.scaling

    def adapted_weight(self):
        return self.weight + self.delta()

    def plain(self):
        """A plain layer with the merged weight W + (α/r)·B·A."""
        raise NotImplementedError


class LoRAConv2d(_LoRA, nn.Conv2d):
    """A Conv2d computing with W + (α/r)·B·A (see the module docstring); built from a Conv2d."""

    @classmethod
    def from_conv(cls, conv, rank, alpha=None):
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                     "padding_mode", "_pads"):
            setattr(layer, name, getattr(conv, name))
        layer.weight = conv.weight
        if conv.bias is not None:
            layer.bias = conv.bias
        else:
            layer.register_parameter("bias", None)
        layer._init_lora(rank, alpha)
        return layer

    def forward(self, input):  # noqa: A002
        return self._conv_forward(input, self.adapted_weight(), self.bias)

    @no_grad()
    def plain(self):
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                         self.dilation, self.groups, bias=self.bias is not None, padding_mode=self.padding_mode)
        conv.weight.data[...] = self.adapted_weight().data
        if self.bias is not None:
            conv.bias.data[...] = self.bias.data
        return conv


class LoRALinear(_LoRA, nn.Linear):
    """A Linear computing with W + (α/r)·B·A (see the module docstring); built from a Linear."""

    @classmethod
    def from_linear(cls, linear, rank, alpha=None):
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        layer.in_features, layer.out_features = linear.in_features, linear.out_features
        layer.weight = linear.weight
        if linear.bias is not None:
            layer.bias = linear.bias
        else:
            layer.register_parameter("bias", None)
        layer._init_lora(rank, alpha)
        return layer

    def forward(self, input):  # noqa: A002
        return F.linear(input, self.adapted_weight(), self.bias)

    @no_grad()
    def plain(self):
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None)
        linear.weight.data[...] = self.adapted_weight().data
        if self.bias is not None:
            linear.bias.data[...] = self.bias.data
        return linear


def _replace(model, name, module):
    """Put ``module`` in the place of the submodule ``name`` (same key, same position in its parent)."""
    parent, _, child = name.rpartition(".")
    owner = model.get_submodule(parent) if parent else model
    owner._modules[child] = module  # (not setattr: that re-inserts the key last, reordering a Sequential)


def apply_lora(model, rank=4, alpha=None, skip=("fc",)):
    """Replace every ``Conv2d`` and ``Linear`` of ``model`` (except the names in ``skip``, the new
    head) by its LoRA version; returns the adapted layer names."""
    names = []
    for name, module in list(model.named_modules()):
        if name in skip or isinstance(module, _LoRA):
            continue
        if isinstance(module, nn.Conv2d):
            _replace(model, name, LoRAConv2d.from_conv(module, rank, alpha))
        elif isinstance(module, nn.Linear):
            _replace(model, name, LoRALinear.from_linear(module, rank, alpha))
        else:
            continue
        names.append(name)
    return names


def lora_parameters(model):
    """Every ``lora_A`` and ``lora_B`` of ``model``."""
    return [p for n, p in model.named_parameters() if n.endswith(("lora_A", "lora_B"))]


def merge_lora(model):
    """Fold every adapter into its weight and put plain layers back; returns ``model``."""
    for name, module in list(model.named_modules()):
        if isinstance(module, _LoRA):
            _replace(model, name, module.plain())
    return model


@no_grad()
def merged_state_dict(model):
    """``model.state_dict()`` with each adapted weight merged and the ``lora_A``/``lora_B`` entries
    dropped: the keys of the plain model.  The model is not changed."""
    merged = {}
    for name, module in model.named_modules():
        if isinstance(module, _LoRA):
            merged[f"{name}.weight"] = module.adapted_weight().data
    out = collections.OrderedDict()
    for key, value in model.state_dict().items():
        if key.endswith((".lora_A", ".lora_B")):
            continue
        out[key] = merged.get(key, value)
    return out
