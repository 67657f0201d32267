"""Live check: a LoRA-fine-tuned model, merged on save, exports to a plain ResNet-18 .pth that
torch loads strictly and that computes what the adapted minitune model computes."""
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minitune  # noqa: E402
from minitune.finetune import apply_lora, lora_parameters  # noqa: E402
from minitune.finetune.checkpoint import model_metadata, save_model  # noqa: E402
from minitune.io import export  # noqa: E402
from minitune.models import resnet18  # noqa: E402

pytestmark = [pytest.mark.finetune, pytest.mark.live_torch]

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
from references._torch_resnet import resnet18 as torch_resnet18  # noqa: E402


def test_merged_lora_export_loads_in_torch_and_computes_the_same(tmp_path):
    minitune.manual_seed(0)
    model = resnet18(num_classes=3, width=4)
    apply_lora(model, rank=2, alpha=3.0)
    rng = np.random.default_rng(0)
    for p in lora_parameters(model):
        p.data[...] = rng.standard_normal(p.shape).astype(np.float32) * 0.1  # B ≠ 0: the adapters matter
    model.eval()
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    ours = model(minitune.tensor(x)).data
    npz = save_model(tmp_path / "best.npz", model, model_metadata(model, ["a", "b", "c"], 32, (0.5,) * 3, (0.5,) * 3))
    pth = export(npz, tmp_path / "best.pth")
    state = torch.load(pth, weights_only=True)
    assert not [k for k in state if "lora" in k]
    net = torch_resnet18(num_classes=3, width=4)
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5)
