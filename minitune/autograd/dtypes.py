"""The dtypes a Tensor may hold, torch's dtype inference for new tensors, and type promotion."""
import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float = float32  # noqa: A001 - torch.float is float32
double = float64
long = int64

_ALLOWED = {float16, float32, float64, int8, int16, int32, int64, uint8, bool_}
_TORCH_NAMES = {float16: "float16", float32: "float32", float64: "float64", int8: "int8", int16: "int16",
                int32: "int32", int64: "int64", uint8: "uint8", bool_: "bool"}


def check_dtype(dtype):
    if isinstance(dtype, str) and dtype.partition(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta"):
        from .devices import check_device  # a device where a dtype was expected: say it is not one
        check_device(dtype, "to()")
        raise TypeError(f"expected a dtype, got the device {dtype!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as minitune.float32, got {dtype!r}") from None
    if dtype not in _ALLOWED:
        raise TypeError(f"unsupported dtype {dtype}; expected one of "
                        f"{', '.join(sorted(_TORCH_NAMES[d] for d in _ALLOWED))}")
    return dtype


def to_array(data, dtype=None):
    """Convert ``data`` into an array with torch's dtype inference.

    Python floats give float32, ints int64, bools bool; numpy arrays keep their dtype
    (float64 stays float64, as ``torch.from_numpy`` keeps it).
    """
    # Imported here, not at the top: tensor.py imports this module (a cycle).
    from .tensor import Tensor  # a Tensor's array is taken as it is

    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if arr.dtype == object or arr.dtype.kind in "USVMmOc":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} with numpy dtype {arr.dtype}; "
                        "expected numbers, nested lists of numbers or a numeric array")
    if dtype is not None:
        arr = arr.astype(check_dtype(dtype), copy=False)
    else:
        check_dtype(arr.dtype)
    return arr


def promote_types(da, db, a_is_scalar=False, b_is_scalar=False):
    """torch's type promotion for two tensors: a higher category (bool < int < float) wins
    outright; within one category a 0-d tensor gives way to a dimensioned one, otherwise
    the wider dtype wins.  (float32 tensor * int64 tensor is float32, not numpy's float64.)"""
    cat = {"b": 0, "u": 1, "i": 1, "f": 2}
    if da == db:
        return da
    ca, cb = cat[da.kind], cat[db.kind]
    if ca != cb:
        return da if ca > cb else db
    if a_is_scalar != b_is_scalar:
        return db if a_is_scalar else da
    return np.result_type(da, db)
