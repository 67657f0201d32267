"""The nn case tables: written once, evaluated with torch by ``tools/references/nn.py`` (into
``tests/reference/nn_*_facts.npz``) and with minitune by ``tests/test_nn_init.py``,
``tests/test_nn_module.py`` and ``tests/test_nn_layers.py``.

Every callable takes the library's modules — ``nn`` (``torch.nn`` or ``minitune.nn``), ``init``
(``torch.nn.init`` or ``minitune.nn.init``), ``lib`` (``torch`` or ``minitune``) — and runs
unchanged with either: the API is the contract, and the expected values (gains, fans, reprs,
key orders, error messages) come from torch, never typed by hand.
"""
import math

# calculate_gain(nonlinearity, param): (nonlinearity, param)
GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0), ("selu", None)]

# _calculate_fan_in_and_fan_out of a weight of these shapes (out, in, k₁, …)
FAN_SHAPES = [(8, 3, 5, 5), (10, 4), (6, 2, 3)]

# Initializers, each applied to a SPREAD_SHAPE weight: (case, function name, keyword arguments).
# Large, so that the sample std is within ~0.3% of the distribution's and max |w| of its bound.
SPREAD_SHAPE = (256, 64, 3, 3)
INITIALIZERS = [
    ("kaiming_normal_fan_out_relu", "kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_fan_in_relu", "kaiming_normal_", dict(mode="fan_in", nonlinearity="relu")),
    ("kaiming_normal_default", "kaiming_normal_", dict()),
    ("kaiming_uniform_sqrt5", "kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_fan_out_relu", "kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("xavier_uniform", "xavier_uniform_", dict()),
    ("xavier_normal_gain2", "xavier_normal_", dict(gain=2.0)),
    ("normal_std0.3", "normal_", dict(std=0.3)),
    ("uniform_pm1", "uniform_", dict(a=-1.0, b=1.0)),
]
UNIFORM_INITIALIZERS = ("kaiming_uniform_", "xavier_uniform_", "uniform_")

# Layers whose default initialization is compared: (case, make(nn)).  ``linear_wide`` has a bias
# long enough (20000) for its max |b| to measure the bias bound.
DEFAULT_INIT = [
    ("linear", lambda nn: nn.Linear(400, 300)),
    ("linear_wide", lambda nn: nn.Linear(16, 20000)),
    ("conv2d", lambda nn: nn.Conv2d(16, 64, 5)),
]

# Calls that torch refuses, with the message minitune's must contain: (case, call(init, lib)).
INIT_ERRORS = [
    ("one_dimensional", lambda init, lib: init.kaiming_normal_(lib.zeros(5))),
    ("mode_fan_avg", lambda init, lib: init.kaiming_normal_(lib.zeros(5, 5), mode="fan_avg")),
    ("nonlinearity_gelu", lambda init, lib: init.kaiming_normal_(lib.zeros(5, 5), nonlinearity="gelu")),
    ("slope_not_a_number", lambda init, lib: init.calculate_gain("leaky_relu", "x")),
]

# Layer reprs: (case, make(nn)).
REPRS = [
    ("linear", lambda nn: nn.Linear(512, 2)),
    ("linear_no_bias", lambda nn: nn.Linear(3, 2, bias=False)),
    ("conv_stem", lambda nn: nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)),
    ("conv_dilated_groups", lambda nn: nn.Conv2d(4, 8, (1, 3), dilation=2, groups=2)),
    ("conv_asymmetric", lambda nn: nn.Conv2d(4, 8, (1, 3), stride=2, padding=(0, 1), dilation=2, groups=2)),
    ("batchnorm", lambda nn: nn.BatchNorm2d(64)),
    ("batchnorm_no_affine", lambda nn: nn.BatchNorm2d(3, momentum=None, affine=False)),
    ("relu_inplace", lambda nn: nn.ReLU(inplace=True)),
    ("maxpool", lambda nn: nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
    ("avgpool", lambda nn: nn.AvgPool2d(2)),
    ("adaptive_avgpool", lambda nn: nn.AdaptiveAvgPool2d((1, 1))),
    ("flatten", lambda nn: nn.Flatten()),
    ("dropout", lambda nn: nn.Dropout(0.2)),
    ("identity", lambda nn: nn.Identity()),
    ("sequential", lambda nn: nn.Sequential(nn.ReLU(), nn.Flatten())),
]

# Layer arguments that torch refuses, with the message minitune's must contain: (case, call(nn, lib)).
LAYER_ERRORS = [
    ("conv_groups", lambda nn, lib: nn.Conv2d(3, 4, 3, groups=2)),
    ("dropout_above_1", lambda nn, lib: nn.Dropout(1.5)),
    ("dropout_below_0", lambda nn, lib: nn.Dropout(-0.1)),
    ("functional_dropout_above_1", lambda nn, lib: nn.functional.dropout(lib.ones(2), 1.5)),
]


def make_net(nn, lib):
    """A two-level network: Net(features=Sequential(Block(conv, bn, a non-persistent buffer), ReLU),
    pool, fc).  Built from ``nn.Module`` of either library."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(3)
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.scale = 2.0  # a plain attribute: not registered

        def forward(self, x):
            return self.bn(self.conv(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(Block(), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(self.pool(self.features(x)).flatten(1))

    return Net()


def replaced_order(nn):
    """Names in order after replacing a child of a Sequential and a parameter of a Linear by
    assignment: (child names, parameter names).  torch keeps each at its place."""
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    setattr(seq, "0", nn.Linear(2, 2))
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(layer.weight.detach().clone())
    return [n for n, _ in seq.named_children()], [n for n, _ in layer.named_parameters()]


def mismatched_state(net, lib):
    """``net``'s state_dict with two keys missing, two unexpected and one of the wrong shape."""
    state = net.state_dict()
    del state["fc.bias"], state["features.0.bn.running_var"]
    state["fc.extra"] = lib.zeros(1)
    state["head.weight"] = lib.zeros(1)
    state["fc.weight"] = lib.zeros(5, 3)
    return state


def error_message(call, *args):
    """(exception class name, message) of what ``call(*args)`` raises, or None if it returns."""
    try:
        call(*args)
    except Exception as exc:  # noqa: BLE001 - any refusal is the fact being recorded
        return type(exc).__name__, exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return None
