"""ResNet-18 and ResNet-34 with torchvision's exact structure, key names and initialization.

    conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 → layer1 … layer4 → avgpool → flatten → fc

Each ``layerK`` is a ``Sequential`` of ``BasicBlock``s (ResNet-18: [2, 2, 2, 2], ResNet-34:
[3, 4, 6, 3]) with 64·2^(K−1) channels; the first block of layers 2–4 halves the resolution
(stride 2 in its conv1) and projects the shortcut with a 1×1 conv + BatchNorm (``downsample``).
So the state_dict keys are torchvision's (``layer2.0.downsample.0.weight`` …) and a torchvision
checkpoint loads as it is: 11,689,512 parameters and 122 state_dict entries for ResNet-18.

Initialization (torchvision's, for training from scratch): every conv
``kaiming_normal_(mode='fan_out', nonlinearity='relu')``, every BatchNorm γ = 1 and β = 0,
and ``fc`` keeps ``Linear``'s default; ``zero_init_residual=True`` starts each block's bn2.γ
at 0, so every residual branch starts as the identity.

``width`` (not in torchvision) replaces the 64 base channels, for small test models with
the same topology and key names: ``resnet18(width=8)``.  ``width=None`` (the default) is 64, or
the width of the pretrained ``weights`` (16 for ``weights="builtin"``).
"""
from .. import nn


def conv3x3(in_planes, out_planes, stride=1):
    """3×3 convolution with padding 1 and no bias (the BatchNorm after it has one)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    """1×1 convolution without bias: the projection shortcut."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions and a shortcut:  y = relu(F(x) + shortcut(x)),

        F(x)        = bn2(conv2(relu(bn1(conv1(x)))))
        shortcut(x) = x, or downsample(x) = bn(conv1x1(x)) when the shape changes.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        # BEGIN SOLUTION A3: implement BasicBlock.forward: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x))
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out = out + identity
        out = self.relu(out)
        return out
        # END SOLUTION


class ResNet(nn.Module):
    """torchvision's ``ResNet`` for ``BasicBlock`` (see the module docstring)."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, width=64):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"ResNet: {name} must be a positive int, got {value!r}")
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list the number of blocks of the 4 stages, got {layers!r}")
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):  # (torchvision also lists GroupNorm, which is never used here)
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)

        x = self.avgpool(x)
        x = x.flatten(1)
        x = self.fc(x)
        return x


def _resnet(arch, layers, weights, num_classes, zero_init_residual, width):
    if width is None:  # the width the weights were trained at (16 for weights="builtin"), else torchvision's 64
        from .weights import weights_width  # lazy: see below
        width = weights_width(weights, arch)
    model = ResNet(BasicBlock, layers, num_classes=num_classes, zero_init_residual=zero_init_residual, width=width)
    if weights is not None:
        # Imported here, not at the top: weights.py reads files through minitune.io, which only
        # a model with pretrained weights needs (a plain resnet18() stays numpy + nn).
        from .weights import load_pretrained
        load_pretrained(model, weights, num_classes=num_classes, arch=arch)
    return model


def resnet18(*, weights=None, progress=True, num_classes=1000, zero_init_residual=False, width=None):
    """ResNet-18 (torchvision's): 11,689,512 parameters at width 64 with 1000 classes.

    ``weights`` (e.g. ``"IMAGENET1K_V1"``) loads pretrained weights through
    ``minitune.models.weights``; ``progress`` is accepted for torchvision compatibility.
    """
    return _resnet("resnet18", [2, 2, 2, 2], weights, num_classes, zero_init_residual, width)


def resnet34(*, weights=None, progress=True, num_classes=1000, zero_init_residual=False, width=None):
    """ResNet-34 (torchvision's): BasicBlocks [3, 4, 6, 3], 21,797,672 parameters at width 64."""
    return _resnet("resnet34", [3, 4, 6, 3], weights, num_classes, zero_init_residual, width)
