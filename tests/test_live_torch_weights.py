"""Live checks against an installed torch: torch reads what minitune writes, minitune reads what torch writes."""
import collections
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import REFERENCE, load_reference  # noqa: E402

import minitune  # noqa: E402
from minitune.io import convert, export, load, load_state_dict, save  # noqa: E402
from minitune.io.npz_format import num_params  # noqa: E402
from minitune.models import resnet18  # noqa: E402

pytestmark = [pytest.mark.weights, pytest.mark.live_torch]

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
from references._torch_resnet import resnet18 as torch_resnet18  # noqa: E402


def as_numpy(t):
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


@pytest.mark.parametrize("drop_counters", [False, True])
def test_torch_loads_the_export(tmp_path, drop_counters):
    npz, _ = convert(REFERENCE / "weights_resnet18w4_zip.pth", tmp_path / "w.npz")
    pth = export(npz, tmp_path / "w.pth")
    loaded = torch.load(pth, weights_only=True)
    source = torch.load(REFERENCE / "weights_resnet18w4_zip.pth", weights_only=True)
    assert list(loaded) == list(source)
    for key in source:
        assert loaded[key].dtype == source[key].dtype and torch.equal(loaded[key], source[key]), key
    if drop_counters:
        loaded = collections.OrderedDict((k, v) for k, v in loaded.items() if "num_batches" not in k)
    model = torch_resnet18(num_classes=10, width=4)
    model.load_state_dict(loaded, strict=True)  # torchvision's ResNet accepts it
    model.eval()
    ref = load_reference("weights_resnet18w4_logits")
    with torch.no_grad():
        logits = model(torch.from_numpy(ref["x"])).numpy()
    # the weights are bit-identical (above); the logits are float32 sums whose order depends on the
    # CPU's kernels (the fixture was written on another machine), so they agree to float32 rounding
    assert logits.dtype == ref["logits"].dtype == np.float32
    np.testing.assert_allclose(logits, ref["logits"], rtol=1e-5, atol=1e-5)


def test_torch_mmaps_the_export(tmp_path):
    """mmap=True needs every storage record 64-byte aligned, as torch writes them."""
    state = load_state_dict(REFERENCE / "weights_mixed_zip.pth")
    save(state, tmp_path / "m.pth")
    loaded = torch.load(tmp_path / "m.pth", mmap=True, weights_only=True)
    for key, value in state.items():
        np.testing.assert_array_equal(as_numpy(loaded[key]), value)


DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool]


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_random_dicts_read_like_torch(tmp_path, legacy, seed):
    g = torch.Generator().manual_seed(seed)
    obj = collections.OrderedDict()
    for i, dtype in enumerate(DTYPES):
        shape = tuple(int(s) for s in torch.randint(0, 4, (int(torch.randint(0, 4, (1,), generator=g)),), generator=g))
        base = (torch.randn(shape, generator=g) * 50).to(dtype)
        obj[f"t{i}"] = base
        if base.dim() >= 2:
            obj[f"t{i}_T"] = base.transpose(0, -1)
        if base.numel() > 2:
            obj[f"t{i}_view"] = base.reshape(-1)[1::2]
    obj["param"] = torch.nn.Parameter(torch.randn(2, 3, generator=g))
    torch.save(obj, tmp_path / "r.pth", _use_new_zipfile_serialization=not legacy)
    got = load(tmp_path / "r.pth")
    expected = torch.load(tmp_path / "r.pth", weights_only=True)
    assert list(got) == list(expected)
    for key, value in expected.items():
        want = as_numpy(value.detach())
        assert got[key].dtype == want.dtype and got[key].shape == want.shape, key
        np.testing.assert_array_equal(got[key], want, err_msg=key)


def test_full_size_resnet18_through_minitune(tmp_path):
    """A torchvision-shaped, full-width state_dict (44.7 MB): read, convert, load, and the same logits."""
    torch.manual_seed(0)
    model = torch_resnet18()
    model.eval()
    torch.save(model.state_dict(), tmp_path / "resnet18-full.pth")
    npz, meta = convert(tmp_path / "resnet18-full.pth", tmp_path / "resnet18-imagenet.npz")
    assert meta["num_params"] == num_params(load_state_dict(tmp_path / "resnet18-full.pth")) == 11689512
    assert len(meta["categories"]) == 1000
    ours = resnet18(weights=npz)
    ours.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = model(x).numpy()
    with minitune.no_grad():
        got = ours(minitune.tensor(x.numpy())).data
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
