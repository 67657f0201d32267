"""Fine-tuning ResNet-18: strategies, the training loop, checkpoints and reports.

Python API (stable): ``FinetuneConfig``, ``fit``, ``compare_with_scratch``, ``build_model``;
strategies ``param_groups``, ``set_train_mode``, ``prepare``, ``trainable_counts``; LoRA
``apply_lora``, ``merge_lora``, ``merged_state_dict``; ``L2SP``; ``train_one_epoch``, ``evaluate``.
"""
from .compare import compare_with_scratch  # noqa: F401
from .config import FinetuneConfig  # noqa: F401
from .l2sp import L2SP  # noqa: F401
from .lora import LoRAConv2d, LoRALinear, apply_lora, lora_parameters, merge_lora, merged_state_dict  # noqa: F401
from .loop import evaluate, train_one_epoch  # noqa: F401
from .run import build_model, fit  # noqa: F401
from .strategy import param_groups, prepare, set_train_mode, trainable_counts  # noqa: F401
