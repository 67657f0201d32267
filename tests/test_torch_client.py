"""Torch client code runs on minitune with only its imports renamed (issue 15).

1. ``test_transfer_learning_script``: the script of ``tests/torch_client_script.py``, in the style of PyTorch's tutorial
   (``beginner_source/transfer_learning_tutorial.py``) and of the classic fine-tuning snippet, written
   for torch; only its import block points at minitune.  Tiny ImageFolder (32 px), one epoch.
2. ``test_difference_matches_torch``: every difference from torch the issue lists, against the fixtures
   ``tools/make_references.py`` wrote from the case table ``tests/torch_client_cases.py``.
3. The API items one by one: grad mode, devices, ``pretrained=``, save/load, Python protocols, ``.data``.
"""
import copy
import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from conftest import load_reference
from PIL import Image
from torch_client_cases import CASES, SMOOTH, run_case
from torch_client_script import MINITUNE_IMPORTS, SCRIPT, TORCH_IMPORTS

import minitune


def _write_image_folder(root):
    """train/ and val/, two classes, 48×40 RGB images (different colours per class)."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("val", 4)):
        for c, name in enumerate(("ants", "bees")):
            folder = root / split / name
            folder.mkdir(parents=True)
            for k in range(count):
                arr = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
                arr[..., c] = 255 - arr[..., c] // 4
                Image.fromarray(arr).save(folder / f"{k}.png")


def _imagenet_file(weights_dir):
    """A random resnet18 saved where ``weights="imagenet"`` looks (offline stand-in for the real file)."""
    from minitune.io import converted_path, save_converted
    model = minitune.models.resnet18()
    save_converted(converted_path("resnet18"), model.state_dict(), {"architecture": "resnet18"})


def test_transfer_learning_script(tmp_path, monkeypatch):
    assert "minitune" not in SCRIPT
    assert MINITUNE_IMPORTS.count("\n") == TORCH_IMPORTS.count("\n")  # one import line for one import line
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path / "weights"))
    (tmp_path / "weights").mkdir()
    _imagenet_file(tmp_path / "weights")
    _write_image_folder(tmp_path / "data")
    namespace = {"DATA_DIR": str(tmp_path / "data"), "SAVE_PATH": str(tmp_path / "model.pth"), "__name__": "script"}
    stdout = io.StringIO()
    with redirect_stdout(stdout), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(MINITUNE_IMPORTS + SCRIPT, "transfer_learning_script", "exec"), namespace)
    text = stdout.getvalue()
    assert "train Loss:" in text and "val Loss:" in text and "Best val Acc:" in text
    assert any("'pretrained' is deprecated" in str(w.message) for w in caught)
    assert minitune.is_grad_enabled()
    ns = namespace
    assert ns["grid"].shape == (36, 4 * 34 + 2, 3)  # 4 images of 32 px in one row, 2 px apart and around
    assert ns["titles"] == [ns["class_names"][int(c)] for c in ns["classes"][:4].data]
    for phase, loss, acc in ns["history"]:
        assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert len(ns["predicted"]) == 8 and ns["class_names"] == ["ants", "bees"]
    assert ns["criterion_ct"].relationship.shape == (2, 1000)
    assert ns["placeholder"].shape == (2, 3) and ns["placeholder"].dtype == np.float32
    assert not ns["frozen_output"].requires_grad
    assert isinstance(ns["state"]["fc.weight"], minitune.Tensor)


def test_torch_imports_and_minitune_imports_name_the_same_things():
    """Each import line maps one-to-one: the names bound by the torch block are the names bound here."""
    import ast

    def names(block):
        return [alias.asname or alias.name for node in ast.parse(block).body for alias in node.names]

    assert names(TORCH_IMPORTS) == names(MINITUNE_IMPORTS)


# ---- the differences, against torch's fixtures ----------------------------------------------------
def _minitune_tensor(array, requires_grad):
    return minitune.tensor(array, requires_grad=requires_grad)


def _run(name):
    return run_case(minitune, name, _minitune_tensor)


# atol = the smallest normal number: torch's vectorized exp flushes subnormal results to 0 (σ(−100) in float32)
TOL = {np.dtype(np.float64): dict(rtol=1e-12, atol=np.finfo(np.float64).tiny),
       np.dtype(np.float32): dict(rtol=2e-6, atol=np.finfo(np.float32).tiny)}


@pytest.mark.parametrize("name", CASES)
def test_difference_matches_torch(name):
    ref = load_reference(f"torch_client_{name}")
    _, tensors, outs = _run(name)
    loss = None
    for k, out in enumerate(outs):
        want = ref[f"out{k}"]
        assert out.dtype == want.dtype, f"output {k}: dtype {out.dtype}, torch {want.dtype}"
        assert out.shape == want.shape
        np.testing.assert_allclose(out.data, want, equal_nan=True, **TOL.get(want.dtype, {}),
                                   err_msg=f"output {k} differs from torch")
        if f"g{k}" in ref:
            assert out.requires_grad, f"output {k} should require grad"
            term = (out * minitune.tensor(ref[f"g{k}"])).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    for i, t in enumerate(tensors):
        if f"grad{i}" in ref:
            got = np.zeros(t.shape, t.dtype) if t.grad is None else t.grad.data
            np.testing.assert_allclose(got, ref[f"grad{i}"], equal_nan=True, **TOL[t.dtype],
                                       err_msg=f"gradient of input {i} differs from torch")


@pytest.mark.parametrize("name", SMOOTH)
def test_gradcheck(name):
    """The new ops (SetItem, Pad, Clamp's bounds, pooling of expanded inputs) against finite differences."""
    inputs, _, _ = _run(name)
    fn = CASES[name][1]
    xs = [minitune.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    checked = SMOOTH[name]

    def f(*diff):
        args = list(xs)
        for i, d in zip(checked, diff):
            args[i] = d
        out = fn(minitune, *args)
        return out[0] if isinstance(out, tuple) else out

    assert minitune.gradcheck(f, [xs[i] for i in checked])


def test_sigmoid_keeps_relative_precision():
    """The issue's numbers: σ(−17) in float32 was 44 % off, σ(x ≤ −18) was 0 (torch: 4e-8)."""
    ref = load_reference("torch_client_sigmoid_float32")
    got = minitune.tensor(ref["in0"]).sigmoid().data
    normal = ref["out0"] > np.finfo(np.float32).tiny
    assert normal.sum() > 10 and np.all(got[normal] > 0)
    np.testing.assert_allclose(got[normal], ref["out0"][normal], rtol=2e-6, atol=0)


def test_cross_entropy_with_masked_logits_is_finite():
    ref = load_reference("torch_client_cross_entropy_masked")
    assert np.isfinite(ref["out0"])
    x = minitune.tensor(ref["in0"], requires_grad=True)
    loss = minitune.nn.functional.cross_entropy(x, minitune.tensor(ref["in1"]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.data))


def test_create_graph_is_not_implemented():
    x = minitune.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="double backward"):
        minitune.autograd.grad((x ** 2).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="double backward"):
        (x ** 2).sum().backward(create_graph=True)


def test_autograd_grad_errors_and_leaves_grad_alone():
    a = minitune.tensor([1.0, 2.0], requires_grad=True)
    b = minitune.tensor([3.0, 4.0], requires_grad=True)
    (ga,) = minitune.autograd.grad((a * a).sum(), [a])
    assert a.grad is None and ga.data.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        minitune.autograd.grad((a * 2).sum(), [a, b])
    with pytest.raises(RuntimeError, match="does not require grad"):
        minitune.autograd.grad((a * 2).sum(), [minitune.tensor([1.0])])


def test_setitem_on_a_leaf_that_requires_grad_is_refused_and_allowed_under_no_grad():
    w = minitune.tensor([1.0, 2.0], requires_grad=True)
    for write in (lambda: w.__setitem__(0, 5.0), w.zero_, lambda: w.fill_(1.0), lambda: w.copy_(w.detach())):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            write()
    with minitune.no_grad():
        w[0] = 5.0
        w.fill_(3.0)
    assert w.data.tolist() == [3.0, 3.0] and w.is_leaf


def test_to_tensor_keeps_dtypes_as_torchvision():
    from minitune.vision import transforms
    for dtype in ("uint8", "float64", "float32", "int32", "int16", "int64", "bool"):
        ref = load_reference(f"torch_client_to_tensor_{dtype}")
        got = transforms.ToTensor()(ref["x"])
        assert got.dtype == ref["y"].dtype, dtype
        np.testing.assert_array_equal(got.data, ref["y"])
    for array, mode, dtype in ((np.arange(12, dtype=np.int32), "I", np.int32), (np.arange(12, dtype=np.uint16), "I;16", np.int16),
                               (np.arange(12, dtype=np.float32), "F", np.float32)):
        img = Image.fromarray(array.reshape(3, 4))
        assert img.mode == mode and transforms.ToTensor()(img).dtype == dtype


# ---- the API items --------------------------------------------------------------------------------
def test_set_grad_enabled_as_function_and_context_manager():
    x = minitune.tensor([1.0], requires_grad=True)
    with minitune.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minitune.is_grad_enabled()
    with minitune.set_grad_enabled(True):
        assert (x * 2).requires_grad
    minitune.set_grad_enabled(False)
    try:
        assert not minitune.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        minitune.set_grad_enabled(True)
    assert minitune.is_grad_enabled()
    with minitune.no_grad():
        with minitune.set_grad_enabled(True):
            assert minitune.is_grad_enabled()
        assert not minitune.is_grad_enabled()


def test_devices():
    cpu = minitune.device("cpu")
    assert cpu == "cpu" and cpu.type == "cpu" and cpu.index is None and repr(cpu) == "device(type='cpu')"
    assert str(minitune.device("cuda", 1)) == "cuda:1"
    assert not minitune.cuda.is_available() and minitune.cuda.device_count() == 0
    minitune.backends.cudnn.benchmark = True
    assert minitune.backends.cudnn.benchmark is True
    minitune.backends.cudnn.benchmark = False
    x = minitune.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(cpu) is x and x.device == "cpu"
    assert x.to(device=cpu, dtype=minitune.float64, non_blocking=True).dtype == np.float64
    assert x.to(cpu, minitune.float64).dtype == np.float64
    assert minitune.zeros(2, device="cpu").shape == (2,) and minitune.tensor([1], device=cpu).shape == (1,)
    for call in (lambda: x.to("cuda"), lambda: x.to(device="cuda:0"), lambda: minitune.zeros(2, device="cuda"),
                 lambda: x.cuda(), lambda: minitune.nn.Linear(2, 2).to("cuda"),
                 lambda: minitune.nn.Linear(2, 2).to(minitune.device("cuda:0"))):
        with pytest.raises((RuntimeError, ValueError), match="CPU only"):
            call()
    with pytest.raises(RuntimeError, match="device type"):
        minitune.device("gpu")


def test_pretrained_maps_to_weights_and_fails_clearly_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITUNE_WEIGHTS_DIR", str(tmp_path))

    def warned(call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        return result, [str(w.message) for w in caught if w.category is UserWarning]

    with pytest.raises(FileNotFoundError, match="minitune weights fetch resnet18"):
        warned(lambda: minitune.models.resnet18(pretrained=True))
    model, messages = warned(lambda: minitune.vision.models.resnet18(pretrained=False, width=4))
    assert model.fc.out_features == 1000 and len(messages) == 1 and "'pretrained' is deprecated" in messages[0]
    with pytest.raises(ValueError, match="not both"):
        minitune.models.resnet18(pretrained=True, weights="imagenet")
    _imagenet_file(tmp_path)
    loaded, messages = warned(lambda: minitune.models.resnet18(pretrained=True))
    assert "'pretrained' is deprecated" in messages[0] and 'weights="imagenet"' in messages[1]
    direct = minitune.models.resnet18(weights=minitune.vision.models.ResNet18_Weights.DEFAULT)
    np.testing.assert_array_equal(loaded.fc.weight.data, direct.fc.weight.data)


def test_save_and_load_at_the_top_level(tmp_path):
    model = minitune.nn.Linear(3, 2)
    opt = minitune.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(minitune.ones(1, 3)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.pth"
    minitune.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    ckpt = minitune.load(path, weights_only=True, map_location="cpu")
    assert ckpt["epoch"] == 3 and isinstance(ckpt["model"]["weight"], minitune.Tensor)
    np.testing.assert_array_equal(ckpt["model"]["weight"].data, model.weight.data)
    fresh = minitune.nn.Linear(3, 2)
    fresh.load_state_dict(ckpt["model"])
    np.testing.assert_array_equal(fresh.bias.data, model.bias.data)
    with pytest.raises(RuntimeError, match="CPU only"):
        minitune.load(path, map_location="cuda")


def test_python_protocols():
    loss = minitune.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and "{:.2f}".format(loss) == "0.12" and format(loss) == format(loss.item())
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{minitune.tensor([1.0]):.2f}"
    names = ["ants", "bees", "wasps"]
    assert names[minitune.tensor(2)] == "wasps" and names[minitune.tensor([1])] == "bees"
    for bad in (minitune.tensor(1.0), minitune.tensor([0, 1])):
        with pytest.raises(TypeError, match="single element"):
            names[bad]
    assert abs(minitune.tensor([-2.0, 3.0])).data.tolist() == [2.0, 3.0]
    assert bool(minitune.tensor([1.0])) and not bool(minitune.tensor(0))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(minitune.tensor([]))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(minitune.tensor([1, 2]))


def test_data_is_the_array_and_torch_idioms_still_work():
    p = minitune.nn.Parameter(minitune.tensor([1.0, 2.0]).data)
    assert isinstance(p.data, np.ndarray)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad.data
    assert p.data.tolist() == [0.0, 0.0]
    preds, labels = minitune.tensor([1, 0, 1]), minitune.tensor([1, 1, 1])
    running = 0
    running += minitune.sum(preds == labels.data)
    acc = running.double() / 3
    assert acc.dtype == np.float64 and f"{acc:.3f}" == "0.667"


def test_tensor_constructor_as_torch():
    assert minitune.Tensor([0, 0, 0]).dtype == np.float32 and minitune.Tensor([0, 0, 0]).shape == (3,)
    t = minitune.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == np.float32
    assert minitune.Tensor().shape == (0,)
    assert minitune.Tensor(np.arange(3)).dtype == np.int64  # an ndarray keeps its dtype (torch: float32)
    with pytest.raises(TypeError, match="must be a sequence"):
        minitune.Tensor(2.5)


def test_namespaces():
    import minitune.utils.data as data
    from minitune.functional import F
    from minitune.vision import datasets, models, transforms, utils
    assert F is minitune.nn.functional
    assert datasets.ImageFolder is minitune.data.ImageFolder and models.resnet18 is minitune.models.resnet18
    assert transforms.Compose is minitune.data.transforms.Compose and utils.make_grid
    assert data.DataLoader is minitune.data.DataLoader and minitune.utils.data is data


def test_dataset_subset_random_split():
    from minitune.utils.data import ConcatDataset, Dataset, Subset, random_split

    class Squares(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return i * i

    ds = Squares()
    assert Subset(ds, [3, 1])[0] == 9 and len(Subset(ds, [3, 1])) == 2
    a, b = random_split(ds, [0.7, 0.3], generator=minitune.Generator().manual_seed(1))
    assert (len(a), len(b)) == (7, 3) and sorted(a.indices + b.indices) == list(range(10))
    c, d = random_split(ds, [0.7, 0.3], generator=minitune.Generator().manual_seed(1))
    assert c.indices == a.indices
    assert [len(s) for s in random_split(ds, [0.33, 0.33, 0.34])] == [4, 3, 3]  # remainder from the first
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [5, 6])
    both = ds + Subset(ds, [2])
    assert isinstance(both, ConcatDataset) and len(both) == 11 and both[10] == 4


def test_make_grid_layout():
    images = minitune.tensor(np.arange(5 * 3 * 2 * 3, dtype=np.float32).reshape(5, 3, 2, 3))
    grid = minitune.vision.utils.make_grid(images, nrow=2, padding=1, pad_value=-1.0)
    # 2 columns, 3 rows of 2×3 images with 1 px between and around
    assert grid.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(grid.data[:, 1:3, 1:4], images.data[0])
    np.testing.assert_array_equal(grid.data[:, 4:6, 5:8], images.data[3])
    assert np.all(grid.data[:, 7:9, 5:8] == -1.0)  # no sixth image
    gray = minitune.vision.utils.make_grid(minitune.zeros(2, 1, 4, 4))
    assert gray.shape == (3, 8, 14)
    one = minitune.vision.utils.make_grid(minitune.rand(1, 3, 4, 4), normalize=True)
    assert one.shape == (3, 4, 4) and one.data.min() == 0.0 and one.data.max() == 1.0


def test_functional_sigmoid_and_new_layers():
    x = minitune.tensor([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(minitune.nn.Sigmoid()(x).data, x.sigmoid().data)
    np.testing.assert_array_equal(minitune.nn.Softmax(dim=1)(x).data, minitune.nn.functional.softmax(x, 1).data)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        minitune.nn.functional.softmax(x)
    assert copy.deepcopy(minitune.nn.LogSoftmax(1)).dim == 1
