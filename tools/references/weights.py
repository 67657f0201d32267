"""Reference checkpoints for ``minitune.io``, written by torch itself.

Besides the ``.npz`` fixtures that ``save`` writes (the arrays torch reads back), this module
writes the ``torch.save`` files themselves into ``tests/reference/``:

* ``weights_resnet18w4_zip.pth`` / ``weights_resnet18w4_legacy.pth``: the state_dict of
  ``resnet18(num_classes=10, width=4)`` (122 keys, torchvision's names; BatchNorm statistics made
  non-trivial by three train-mode batches) in the zip and the legacy-stream layout.  Width 4, not 8:
  a width-8 state_dict is 714 KB per copy, which would break the 1 MB budget for these fixtures.
* ``weights_mixed_zip.pth`` / ``weights_mixed_legacy.pth``: float16/32/64, bfloat16, int8/16/32/64,
  uint8, bool, a 0-d int64, an empty tensor, a transposed (non-contiguous) view, a slice sharing
  its base's storage and an ``nn.Parameter`` (pickled through ``_rebuild_parameter``).
* ``weights_checkpoint.pth``: a training checkpoint ``{'epoch', 'state_dict', 'best_acc1', 'optimizer'}``.
* ``weights_mixed_tar.pth``: the oldest layout (a tar of ``sys_info``, ``pickle``, ``storages``,
  ``tensors``), built by hand after ``torch/serialization.py`` ``_legacy_load.legacy_load``
  because torch no longer writes it; ``torch.load`` of it must succeed here, which proves the layout.
"""
import collections
import io
import pathlib
import pickle
import struct
import sys
import tarfile

import torch
from torch import nn

from references._torch_resnet import resnet18

REF = pathlib.Path(__file__).resolve().parents[2] / "tests" / "reference"


def _np(t):
    return t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()


def _resnet(save):
    torch.manual_seed(0)
    model = resnet18(num_classes=10, width=4)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    model.train()
    for _ in range(3):
        model(torch.randn(4, 3, 32, 32))
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)
    sd = model.state_dict()
    torch.save(sd, REF / "weights_resnet18w4_zip.pth")
    torch.save(sd, REF / "weights_resnet18w4_legacy.pth", _use_new_zipfile_serialization=False)
    save("resnet18w4_state", **{k: _np(v) for k, v in sd.items()})
    save("resnet18w4_logits", x=x.numpy(), logits=logits.numpy())


def _mixed():
    g = torch.Generator().manual_seed(1)
    base = torch.arange(10, dtype=torch.float32)
    square = torch.randn(3, 4, generator=g)
    return collections.OrderedDict([
        ("f32", torch.randn(2, 3, 4, generator=g)),
        ("f64", torch.randn(5, generator=g, dtype=torch.float64)),
        ("f16", torch.randn(3, 2, generator=g).half()),
        ("bf16", torch.randn(7, generator=g).bfloat16()),
        ("i8", torch.tensor([-128, -1, 0, 127], dtype=torch.int8)),
        ("i16", torch.tensor([-30000, 5, 30000], dtype=torch.int16)),
        ("i32", torch.tensor([[-2 ** 31, 0], [7, 2 ** 31 - 1]], dtype=torch.int32)),
        ("i64", torch.tensor([-2 ** 62, 3, 2 ** 62], dtype=torch.int64)),
        ("u8", torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(42)),
        ("empty", torch.zeros(0, 3)),
        ("square", square),
        ("transposed", square.t()),
        ("base", base),
        ("slice", base[3:7]),
        ("strided", base[1::3]),
        ("param", nn.Parameter(torch.randn(3, generator=g))),
    ])


def _tar(path, entries):
    """A legacy tar checkpoint of ``entries`` (name -> tensor sharing storage where they do), the way
    ``legacy_load`` reads it: storages member, tensors member, pickle member, sys_info member."""
    storages, views, tensors = collections.OrderedDict(), [], []
    roots = {}
    for name, t in entries.items():
        key = roots.setdefault(t.untyped_storage().data_ptr(), 1000 + len(roots))  # keys differ from tensor keys
        storages.setdefault(key, t)
        tensors.append((len(tensors), key, t))
    sbuf = io.BytesIO()
    pickle.dump(len(storages), sbuf, protocol=2)
    for key, t in storages.items():
        storage_type = getattr(torch, {torch.float32: "FloatStorage", torch.float64: "DoubleStorage",
                                       torch.int64: "LongStorage"}[t.dtype])
        pickle.dump((key, "cpu", storage_type), sbuf, protocol=2)
        raw = bytes(t.untyped_storage())
        sbuf.write(struct.pack("<q", len(raw) // t.element_size()))
        sbuf.write(raw)
    # one storage view: key 2000 = elements [2:6) of storage 1000
    views.append((2000, 1000, 2, 4))
    pickle.dump(views, sbuf, protocol=2)
    tensors.append((len(tensors), 2000, torch.zeros(4)))  # placeholder tensor on the view, filled below

    tbuf = io.BytesIO()
    pickle.dump(len(tensors), tbuf, protocol=2)
    for key, storage_key, t in tensors:
        tensor_type = getattr(torch, {torch.float32: "FloatTensor", torch.float64: "DoubleTensor",
                                      torch.int64: "LongTensor"}[t.dtype])
        pickle.dump((key, storage_key, tensor_type), tbuf, protocol=2)
        size, stride = (t.shape, t.stride()) if storage_key != 2000 else ((2, 2), (2, 1))
        offset = t.storage_offset() if storage_key != 2000 else 0
        tbuf.write(struct.pack("<i", len(size)) + b"\0\0\0\0")
        tbuf.write(struct.pack(f"<{len(size)}q", *size) + struct.pack(f"<{len(size)}q", *stride))
        tbuf.write(struct.pack("<q", offset))

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return str(ids[id(obj)]) if id(obj) in ids else None

    names = list(entries) + ["on_view"]
    objs = list(entries.values()) + [tensors[-1][2]]
    ids = {id(o): i for i, o in enumerate(objs)}
    pbuf = io.BytesIO()
    _Pickler(pbuf, protocol=2).dump(collections.OrderedDict(zip(names, objs)))
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                             "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, blob in (("sys_info", sys_info), ("pickle", pbuf.getvalue()),
                           ("storages", sbuf.getvalue()), ("tensors", tbuf.getvalue())):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(blob), 0
            tar.addfile(info, io.BytesIO(blob))


def make(save):
    REF.mkdir(parents=True, exist_ok=True)
    _resnet(save)

    mixed = _mixed()
    torch.save(mixed, REF / "weights_mixed_zip.pth")
    torch.save(mixed, REF / "weights_mixed_legacy.pth", _use_new_zipfile_serialization=False)
    for name in ("zip", "legacy"):
        back = torch.load(REF / f"weights_mixed_{name}.pth", weights_only=True)
        assert all(torch.equal(back[k], v) for k, v in mixed.items())
    save("mixed", **{k: _np(v) for k, v in mixed.items()})

    torch.manual_seed(2)
    small = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3))
    opt = torch.optim.SGD(small.parameters(), lr=0.1, momentum=0.9)
    small(torch.randn(2, 2, 5, 5)).sum().backward()
    opt.step()
    checkpoint = {"epoch": 3, "state_dict": small.state_dict(), "best_acc1": 0.75, "optimizer": opt.state_dict()}
    torch.save(checkpoint, REF / "weights_checkpoint.pth")
    save("checkpoint_state", **{k: _np(v) for k, v in small.state_dict().items()})

    g = torch.Generator().manual_seed(3)
    w = torch.randn(3, 4, generator=g)
    tar_entries = collections.OrderedDict([("weight", w), ("weight_t", w.t()), ("bias", torch.randn(4, generator=g,
                                           dtype=torch.float64)), ("count", torch.tensor(9)), ("row", w[1])])
    _tar(REF / "weights_mixed_tar.pth", tar_entries)
    with open(REF / "weights_mixed_tar.pth", "rb") as f:
        back = torch.load(f, weights_only=False)  # proves torch reads the hand-made layout
    assert list(back) == list(tar_entries) + ["on_view"], list(back)
    for k, v in tar_entries.items():
        assert torch.equal(back[k], v), k
    assert torch.equal(back["on_view"], w.reshape(-1)[2:6].reshape(2, 2))
    save("mixed_tar", **{k: _np(v) for k, v in back.items()})
    print("weights: wrote .pth files", sorted(p.name for p in REF.glob("weights_*.pth")), file=sys.stderr)
