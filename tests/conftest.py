"""Shared test helpers: the PyTorch reference fixtures and the real-data folder."""
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
HYMENOPTERA = ROOT.parent / "shared" / "data" / "hymenoptera_data"


def load_reference(name):
    """The arrays of ``tests/reference/<name>.npz``, written by ``tools/make_references.py`` from torch."""
    path = REFERENCE / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"missing reference fixture {path}; run: python tools/make_references.py")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture
def reference():
    return load_reference


@pytest.fixture
def hymenoptera():
    if not (HYMENOPTERA / "train").is_dir():
        pytest.skip(f"real data not present at {HYMENOPTERA}")
    return HYMENOPTERA


@pytest.fixture(params=[1, 3], ids=["1thread", "3threads"])
def threads(request, monkeypatch):
    """Run a kernel test on one thread, and on three with every job cut into parts however small
    (the size thresholds off), so that the parts' seams are tested on tiny arrays."""
    from minitune.kernels import batch_norm, conv2d, elementwise, fma, matmul, max_pool_values, pooling
    from minitune.kernels import threads as T
    monkeypatch.setattr(T, "_num_threads", request.param)
    for module, name in ((conv2d, "MIN_PART_MULTIPLIES"), (batch_norm, "MIN_PART_VALUES"),
                         (elementwise, "MIN_PART_VALUES"), (pooling, "MIN_PART_VALUES"), (fma, "MIN_PART_VALUES"),
                         (max_pool_values, "MIN_PART_VALUES"),
                         (matmul, "MIN_PART_MULTIPLIES")):
        monkeypatch.setattr(module, name, 0)
    return request.param


@pytest.fixture(params=["winograd", "im2col", "direct"])
def conv_path(request, monkeypatch):
    """Run a conv test on each forward path: Winograd forced on wherever it applies (3×3 stride 1),
    im2col (Winograd and the direct kernel off), the direct kernel wherever it applies, however narrow."""
    from minitune.kernels import conv2d as K
    from minitune.kernels import direct_conv as D
    if request.param == "winograd":
        monkeypatch.setattr(K, "WINOGRAD_MIN_TILES", 0)
        monkeypatch.setattr(K, "WINOGRAD_MIN_TILES_PER_SAMPLE", 0)
        monkeypatch.setattr(K, "WINOGRAD_MIN_SAMPLES", 1)
    else:
        monkeypatch.setattr(K, "WINOGRAD_MIN_TILES", np.inf)
    if request.param == "direct":
        monkeypatch.setattr(D, "MIN_WIDTH", 0)
        monkeypatch.setattr(D, "MIN_SAMPLES", 1)
    else:
        monkeypatch.setattr(D, "MAX_TERMS", -1)
    return request.param
