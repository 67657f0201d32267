"""Fine-tuning ResNet-18: strategies, the training loop, checkpoints and reports."""
from .config import FinetuneConfig  # noqa: F401
from .loop import evaluate, train_one_epoch  # noqa: F401
from .run import build_model, fit  # noqa: F401
from .strategy import param_groups, set_train_mode  # noqa: F401
