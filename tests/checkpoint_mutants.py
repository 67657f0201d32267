"""Seeded mutants of the torch-written fixtures in tests/reference/*.pth: the checkpoint fuzz case table.

One case table for both ``tests/test_fuzz_checkpoints.py`` (a few hundred cases, part of the suite)
and ``tools/fuzz_checkpoints.py`` (``--scale N`` for N times as many).  Nothing here imports torch:
the mutants are made from the committed bytes with ``zipfile``, ``tarfile`` and ``pickletools``.

A case is ``(name, data, expect)``: ``expect`` is ``"any"`` (a correct load or the documented
error), ``"error"`` (the documented error) or ``"ok"`` (must load).  Each case's random numbers come
from a generator seeded by its *name*, so adding a case does not reseed the others.

Kinds of mutant:
* ``flip``, ``truncate``, ``splice``, ``zero`` — byte damage anywhere in the file;
* ``zip_flags`` (encrypted / patched / strongly encrypted bits, central and local headers),
  ``zip_field`` (absurd sizes, offsets, counts in zip headers), ``tar_field`` (tar header fields);
* ``pickle_int`` (an int in the object pickle becomes 2⁶¹, 2⁶⁴, −1, …), ``pickle_drop``,
  ``pickle_dup``, ``pickle_swap`` (opcode edits), ``raw_int`` (an int64 in a legacy/tar header);
* ``hostile`` — a stack-neutral ``os.system("touch MARKER")`` & co. inserted at a random opcode
  boundary of the object pickle (the marker file must never appear);
* ``crafted`` — hand-built pickles: zero-stride and many-view expansions, overflowing sizes,
  nesting, exponential hash/repr keys, huge memo indices, protocol-5 buffers, BUILD on allowed
  functions.

``tests/checkpoint_fuzz_worker.py`` loads the cases in capped subprocesses and judges the outcomes.
"""
import hashlib
import io
import pathlib
import pickle
import pickletools
import struct
import tarfile
import zipfile

import numpy as np

REFERENCE = pathlib.Path(__file__).resolve().parent / "reference"
FIXTURES = {"mixed_zip": "weights_mixed_zip.pth", "mixed_legacy": "weights_mixed_legacy.pth",
            "mixed_tar": "weights_mixed_tar.pth", "checkpoint": "weights_checkpoint.pth",
            "resnet_zip": "weights_resnet18w4_zip.pth", "resnet_legacy": "weights_resnet18w4_legacy.pth"}
ABSURD_INTS = [-1, -2, -(2 ** 31), -(2 ** 63), 2 ** 31 - 1, 2 ** 32, 2 ** 48, 2 ** 61, 2 ** 62, 2 ** 63 - 1,
               2 ** 63, 2 ** 64, 2 ** 64 + 1, 10 ** 30, 10 ** 4000]
# how many cases of each kind per fixture, at scale 1 (a kind that does not apply to a layout is skipped)
PER_FIXTURE = {"flip": 12, "truncate": 5, "splice": 3, "zero": 3, "zip_flags": 6, "zip_field": 8, "tar_field": 8,
               "pickle_int": 12, "pickle_drop": 4, "pickle_dup": 4, "pickle_swap": 4, "raw_int": 6, "hostile": 6}
BIG_FIXTURES = {"resnet_zip", "resnet_legacy"}  # 200 kB each: a third of the cases
HOSTILE_CALLS = [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"),
                 ("subprocess", "getoutput"), ("builtins", "open")]


def rng_for(name):
    return np.random.default_rng(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))


# -- the pickle inside each layout ---------------------------------------------------------------------
def layout_of(data):
    return "zip" if data[:2] == b"PK" else "tar" if data[257:262] == b"ustar" else "legacy"


def pickle_spans(data):
    """[(start, end)] of the consecutive pickles at the start of a legacy stream (5 of them)."""
    f, spans = io.BytesIO(data), []
    for _ in range(5):
        start = f.tell()
        for _op in pickletools.genops(f):
            pass
        spans.append((start, f.tell()))
    return spans


def get_object_pickle(data):
    layout = layout_of(data)
    if layout == "zip":
        zf = zipfile.ZipFile(io.BytesIO(data))
        return zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    if layout == "tar":
        return tarfile.open(fileobj=io.BytesIO(data)).extractfile("pickle").read()
    start, end = pickle_spans(data)[3]
    return data[start:end]


def with_object_pickle(data, pkl):
    """``data`` with its object pickle replaced by ``pkl`` (zip and tar are rebuilt record by record)."""
    layout = layout_of(data)
    if layout == "legacy":
        start, end = pickle_spans(data)[3]
        return data[:start] + pkl + data[end:]
    out = io.BytesIO()
    if layout == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
            for name in zin.namelist():
                zout.writestr(name, pkl if name.endswith("/data.pkl") else zin.read(name))
        return out.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data)) as tin, tarfile.open(fileobj=out, mode="w") as tout:
        for member in tin.getmembers():
            blob = pkl if member.name == "pickle" else tin.extractfile(member).read()
            info = tarfile.TarInfo(member.name)
            info.size = len(blob)
            tout.addfile(info, io.BytesIO(blob))
    return out.getvalue()


def opcode_spans(pkl):
    """[(opcode name, start, end)] of each opcode of one pickle."""
    ops = list(pickletools.genops(pkl))
    ends = [pos for _, _, pos in ops[1:]] + [len(pkl)]
    return [(op.name, pos, end) for (op, _, pos), end in zip(ops, ends)]


def int_opcode(value):
    """The shortest opcode pushing ``value``: BININT for 32 bits, else LONG1 / LONG4."""
    if -(2 ** 31) <= value < 2 ** 31:
        return b"J" + struct.pack("<i", value)
    raw = pickle.encode_long(value)
    return (b"\x8a" + bytes([len(raw)]) if len(raw) < 256 else b"\x8b" + struct.pack("<i", len(raw))) + raw


def unicode_opcode(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def hostile_snippet(module, name, marker, variant):
    """A stack-neutral opcode sequence that calls ``module.name`` on a command creating ``marker``."""
    arg = {"system": f"touch {marker}", "eval": f"__import__('os').system('touch {marker}')",
           "exec": f"import os; os.system('touch {marker}')", "getoutput": f"touch {marker}",
           "open": str(marker)}[name]
    args = unicode_opcode(arg) + (unicode_opcode("w") + b"\x86" if name == "open" else b"\x85")  # TUPLE2/1
    if variant == 0:
        return b"c" + f"{module}\n{name}\n".encode() + args + b"R0"  # GLOBAL, args, REDUCE, POP
    if variant == 1:
        return unicode_opcode(module) + unicode_opcode(name) + b"\x93" + args + b"R0"  # STACK_GLOBAL
    marked = b"(" + args[:-1]  # MARK, the arguments, no TUPLE
    return marked + b"i" + f"{module}\n{name}\n".encode() + b"0"  # INST, POP


# -- mutators: (rng, data, marker) -> bytes -------------------------------------------------------------
def flip(rng, data, marker):
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        out[int(rng.integers(len(out)))] ^= int(rng.integers(1, 256))
    return bytes(out)


def truncate(rng, data, marker):
    return data[:int(rng.integers(0, len(data)))]


def splice(rng, data, marker):
    a, b, n = int(rng.integers(len(data))), int(rng.integers(len(data))), int(rng.integers(1, 64))
    return data[:b] + data[a:a + n] + data[b + n:]


def zero(rng, data, marker):
    at, n = int(rng.integers(len(data))), int(rng.integers(1, 256))
    return data[:at] + bytes(min(n, len(data) - at)) + data[at + n:]


def _zip_headers(data):
    """Offsets of central (PK\\1\\2) and local (PK\\3\\4) headers and of the end record (PK\\5\\6)."""
    find = lambda sig: [i for i in range(len(data) - 3) if data[i:i + 4] == sig]  # noqa: E731
    return find(b"PK\x01\x02"), find(b"PK\x03\x04"), find(b"PK\x05\x06")


def zip_flags(rng, data, marker):
    central, local, _ = _zip_headers(data)
    bits = int(rng.choice([0x1, 0x20, 0x40, 0x41, 0x21]))
    out = bytearray(data)
    where = int(rng.integers(3))  # 0 central, 1 local, 2 both
    i = int(rng.integers(len(central)))
    if where in (0, 2):
        out[central[i] + 8] |= bits
    if where in (1, 2):
        out[local[i] + 6] |= bits
    return bytes(out)


def zip_field(rng, data, marker):
    central, local, end = _zip_headers(data)
    fields = [(h, off, size) for h in central for off, size in ((10, 2), (20, 4), (24, 4), (28, 2), (30, 2),
                                                                (34, 2), (42, 4))]
    fields += [(h, off, size) for h in local for off, size in ((8, 2), (18, 4), (22, 4), (26, 2), (28, 2))]
    fields += [(h, off, size) for h in end for off, size in ((8, 2), (10, 2), (12, 4), (16, 4), (20, 2))]
    at, off, size = fields[int(rng.integers(len(fields)))]
    value = int(rng.choice([0, 1, 2 ** (8 * size) - 1, 2 ** (8 * size - 1), int(rng.integers(2 ** (8 * size)))]))
    out = bytearray(data)
    out[at + off:at + off + size] = value.to_bytes(size, "little")
    return bytes(out)


def tar_field(rng, data, marker):
    headers = [i for i in range(0, len(data) - 512, 512) if data[i + 257:i + 262] == b"ustar"]
    at = headers[int(rng.integers(len(headers)))]
    off, size = [(124, 12), (100, 8), (148, 8), (156, 1), (0, 100), (345, 155)][int(rng.integers(6))]
    choices = [b"77777777777", b"-1", b"\xff" * size, b"9" * size, b"", f"{rng.integers(8 ** 11):o}".encode()]
    value = choices[int(rng.integers(len(choices)))][:size].ljust(size, b"\0")
    return data[:at + off] + value + data[at + off + size:]


def _edit_pickle(data, edit, rng):
    pkl = get_object_pickle(data)
    spans = opcode_spans(pkl)
    return with_object_pickle(data, edit(pkl, spans, rng))


def pickle_int(rng, data, marker):
    def edit(pkl, spans, rng):
        ints = [(s, e) for name, s, e in spans if name in ("BININT", "BININT1", "BININT2", "LONG1", "NEWTRUE")]
        ints = ints or [(s, e) for name, s, e in spans if "UNICODE" in name]  # the tar pickle's ids are str
        s, e = ints[int(rng.integers(len(ints)))]
        return pkl[:s] + int_opcode(int(rng.choice(np.array(ABSURD_INTS, dtype=object)))) + pkl[e:]
    return _edit_pickle(data, edit, rng)


def pickle_drop(rng, data, marker):
    def edit(pkl, spans, rng):
        _, s, e = spans[int(rng.integers(len(spans) - 1))]
        return pkl[:s] + pkl[e:]
    return _edit_pickle(data, edit, rng)


def pickle_dup(rng, data, marker):
    def edit(pkl, spans, rng):
        _, s, e = spans[int(rng.integers(len(spans) - 1))]
        return pkl[:e] + pkl[s:e] + pkl[e:]
    return _edit_pickle(data, edit, rng)


def pickle_swap(rng, data, marker):
    def edit(pkl, spans, rng):
        i = int(rng.integers(len(spans) - 2))
        (_, s1, e1), (_, s2, e2) = spans[i], spans[i + 1]
        return pkl[:s1] + pkl[s2:e2] + pkl[s1:e1] + pkl[e2:]
    return _edit_pickle(data, edit, rng)


def raw_int(rng, data, marker):
    """An int64/int32 word after the pickles of a legacy stream or in a tar member becomes absurd."""
    if layout_of(data) == "legacy":
        start = pickle_spans(data)[4][1]
        at = start + 8 * int(rng.integers((len(data) - start) // 8))
    else:
        tar = tarfile.open(fileobj=io.BytesIO(data))
        member = tar.getmember(str(rng.choice(["tensors", "storages"])))
        at = member.offset_data + 4 * int(rng.integers(member.size // 4))
    value = int(rng.choice(np.array([v for v in ABSURD_INTS if -(2 ** 63) <= v < 2 ** 63], dtype=object)))
    return data[:at] + struct.pack("<q", value) + data[at + 8:]


def hostile(rng, data, marker):
    def edit(pkl, spans, rng):
        module, name = HOSTILE_CALLS[int(rng.integers(len(HOSTILE_CALLS)))]
        _, s, _ = spans[int(rng.integers(1, len(spans)))]  # after PROTO, at most just before STOP
        return pkl[:s] + hostile_snippet(module, name, marker, int(rng.integers(3))) + pkl[s:]
    return _edit_pickle(data, edit, rng)


MUTATORS = {"flip": flip, "truncate": truncate, "splice": splice, "zero": zero, "zip_flags": zip_flags,
            "zip_field": zip_field, "tar_field": tar_field, "pickle_int": pickle_int, "pickle_drop": pickle_drop,
            "pickle_dup": pickle_dup, "pickle_swap": pickle_swap, "raw_int": raw_int, "hostile": hostile}
APPLIES = {"zip_flags": {"zip"}, "zip_field": {"zip"}, "tar_field": {"tar"}, "raw_int": {"legacy", "tar"}}


# -- crafted cases: hand-built zip checkpoints ------------------------------------------------------------
def zip_checkpoint(pkl, storages):
    """A torch.save-style zip: ``x/data.pkl`` = ``pkl`` and ``x/data/<key>`` = raw bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("x/data.pkl", pkl)
        zf.writestr("x/byteorder", b"little")
        for key, raw in storages.items():
            zf.writestr(f"x/data/{key}", raw)
    return out.getvalue()


def tensor_ops(key, numel, offset, size, stride, storage="FloatStorage", memo=None):
    """Opcodes pushing ``_rebuild_tensor_v2(storage key, offset, size, stride, False, OrderedDict())``;
    ``memo="put"`` keeps the storage in memo slot 0, ``memo="get"`` reuses it from there."""
    ints = lambda values: b"(" + b"".join(int_opcode(v) for v in values) + b"t"  # noqa: E731
    pid = b"(" + unicode_opcode("storage") + f"ctorch\n{storage}\n".encode() + unicode_opcode(key) + \
        unicode_opcode("cpu") + int_opcode(numel) + b"tQ"
    pid = {None: pid, "put": pid + b"q\x00", "get": b"h\x00"}[memo]
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + int_opcode(offset) + ints(size) + ints(stride) +
            b"\x89ccollections\nOrderedDict\n)Rt" + b"R")


def dict_of(entries):
    """A pickle of ``{name: value}`` from (name, value opcodes) pairs."""
    body = b"".join(unicode_opcode(name) + ops for name, ops in entries)
    return b"\x80\x02}(" + body + b"u."


def crafted_cases(marker):
    f32 = np.arange(4, dtype="<f4").tobytes()
    mib = bytes(1 << 20)
    one_tensor = lambda *a, **k: zip_checkpoint(dict_of([("t", tensor_ops("0", *a, **k))]), {"0": f32})  # noqa: E731
    yield "crafted/fine", one_tensor(4, 0, (2, 2), (2, 1)), "ok"
    yield "crafted/zero_stride_4GiB", one_tensor(4, 0, (2 ** 15, 2 ** 15), (0, 0)), "error"
    yield "crafted/zero_stride_small_ok", one_tensor(4, 0, (64, 64), (0, 0)), "ok"
    for i, (offset, size, stride, numel, expect) in enumerate([
            (0, (2 ** 61,), (1,), 4, "error"), (0, (2,), (2 ** 63,), 4, "error"), (2 ** 64, (1,), (1,), 4, "error"),
            (0, (-1,), (1,), 4, "error"), (0, (4,), (-1,), 4, "error"), (-1, (1,), (1,), 4, "error"),
            (0, (4,), (1,), 2 ** 62, "error"), (0, (4,), (1,), -4, "error"), (0, (2 ** 40, 0), (1, 1), 4, "ok"),
            (0, (0,) + (2 ** 30,) * 3, (1,) * 4, 4, "error"), (0, (1,) * 65, (1,) * 65, 4, "error"),
            (0, (2, 2 ** 62), (1, 2 ** 62), 4, "error"), (0, (4,), (1,), 10 ** 4000, "error"),
            (2 ** 62, (1,), (1,), 4, "error"), (0, (1, 4), (2 ** 63 - 1, 1), 4, "error")]):
        yield f"crafted/absurd_{i}", one_tensor(numel, offset, size, stride), expect
    many = [(f"v{i}", tensor_ops("0", 1 << 18, i, (1 << 17,), (1,), memo=("put" if i == 0 else "get")))
            for i in range(2600)]
    yield "crafted/2600_distinct_views", zip_checkpoint(dict_of(many), {"0": mib}), "error"
    same = [(f"v{i}", tensor_ops("0", 1 << 18, 0, (1 << 18,), (1,), memo=("put" if i == 0 else "get")))
            for i in range(2600)]
    yield "crafted/2600_same_views_shared", zip_checkpoint(dict_of(same), {"0": mib}), "ok"
    deep = b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."
    yield "crafted/deep_list_value", zip_checkpoint(deep, {}), "error"
    chain = b"\x80\x02)" + b"\x85" * 100_000 + b"."  # ((((),),),) 100000 deep
    yield "crafted/deep_tuple_value", zip_checkpoint(chain, {}), "error"
    yield "crafted/deep_tuple_key", zip_checkpoint(b"\x80\x02})" + b"\x85" * 100_000 + b"K\x00s.", {}), "error"
    dag = b")" + b"2\x86" * 64  # t = (t, t) 64 times: 2**64 nodes when hashed or printed
    yield "crafted/dag_key", zip_checkpoint(b"\x80\x02}" + dag + b"K\x00s.", {}), "error"
    yield "crafted/dag_frozenset", zip_checkpoint(b"\x80\x04(" + dag + b"\x91.", {}), "error"
    yield "crafted/dag_set", zip_checkpoint(b"\x80\x04\x8f(" + dag + b"\x90.", {}), "error"
    yield "crafted/dag_dict_opcode", zip_checkpoint(b"\x80\x02(" + dag + b"K\x00d.", {}), "error"
    yield "crafted/dag_pid", zip_checkpoint(b"\x80\x02" + dag + b"Q.", {}), "error"
    yield "crafted/dag_value", zip_checkpoint(b"\x80\x02" + dag + b".", {}), "any"
    yield "crafted/self_list_pid", zip_checkpoint(b"\x80\x02]q\x00h\x00aQ.", {}), "error"
    yield "crafted/huge_memo_put", zip_checkpoint(b"\x80\x02Nr\xff\xff\xff\xff.", {}), "ok"
    yield "crafted/huge_memo_get", zip_checkpoint(b"\x80\x02j\xff\xff\xff\xff.", {}), "error"
    yield "crafted/bytearray8", zip_checkpoint(b"\x80\x05\x96" + struct.pack("<Q", 1 << 40) + b".", {}), "error"
    yield "crafted/frame_huge", zip_checkpoint(b"\x80\x04\x95" + struct.pack("<Q", 1 << 62) + b"N.", {}), "any"
    yield "crafted/binunicode8_huge", zip_checkpoint(b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b".", {}), \
        "error"
    yield "crafted/long4_huge", zip_checkpoint(b"\x80\x02\x8b" + struct.pack("<i", 2 ** 31 - 1) + b".", {}), "error"
    for target in ("_rebuild_parameter", "_rebuild_tensor_v2"):
        for state in (b"N}X\x0c\x00\x00\x00__defaults__(K\x01K\x02K\x03ts\x86",  # (None, {slot: value})
                      b"}X\x08\x00\x00\x00__dict__}s"):
            name = f"crafted/build_on_{target}_{len(state)}"
            yield name, zip_checkpoint(b"\x80\x02ctorch._utils\n" + target.encode() + b"\n" + state + b"b0N.", {}), \
                "error"
    yield "crafted/build_ordered_dict_class", zip_checkpoint(
        b"\x80\x02ccollections\nOrderedDict\n}X\x09\x00\x00\x00__class__Nsb.", {}), "error"
    yield "crafted/build_dunder_on_instance", zip_checkpoint(
        b"\x80\x02ccollections\nOrderedDict\n)R}X\x09\x00\x00\x00__class__Nsb.", {}), "error"
    yield "crafted/ordered_dict_args", zip_checkpoint(
        b"\x80\x02ccollections\nOrderedDict\n](K\x01K\x02ta\x85R.", {}), "error"
    yield "crafted/torch_size_of_str", zip_checkpoint(b"\x80\x02ctorch\nSize\nX\x03\x00\x00\x00abc\x85R.", {}), \
        "error"
    yield "crafted/newobj_allowed", zip_checkpoint(b"\x80\x02ctorch\nSize\n)\x81.", {}), "error"
    yield "crafted/bare_global", zip_checkpoint(b"\x80\x02}X\x01\x00\x00\x00actorch._utils\n_rebuild_tensor_v2\ns.",
                                                {}), "error"
    yield "crafted/global_as_key", zip_checkpoint(b"\x80\x02}ctorch._utils\n_rebuild_tensor_v2\nK\x00s.", {}), \
        "error"
    yield "crafted/tensor_as_key", zip_checkpoint(b"\x80\x02}" + tensor_ops("0", 4, 0, (4,), (1,)) + b"K\x00s.",
                                                  {"0": f32}), "error"
    for i, (module, name) in enumerate(HOSTILE_CALLS):
        for variant in range(3):
            pkl = b"\x80\x02" + hostile_snippet(module, name, marker, variant) + b"N."
            yield f"crafted/hostile_{module}.{name}_{variant}", zip_checkpoint(pkl, {}), "error"


def all_cases(marker, scale=1):
    """Every case: the mutants of each fixture (``scale`` × the counts of ``PER_FIXTURE``), then the crafted ones."""
    for fixture, filename in FIXTURES.items():
        data = (REFERENCE / filename).read_bytes()
        for kind, count in PER_FIXTURE.items():
            if layout_of(data) not in APPLIES.get(kind, {"zip", "legacy", "tar"}):
                continue
            count = max(1, count // 3) if fixture in BIG_FIXTURES else count
            for i in range(count * scale):
                name = f"{fixture}/{kind}/{i}"
                yield name, MUTATORS[kind](rng_for(name), data, marker), "any"
    yield from crafted_cases(marker)
