"""Arrow arrays made from numpy and Python values, and read back, through their buffers.

pyarrow imports pandas, when it is installed, the first time it converts Python or numpy values
(`pa.array`, `pa.scalar`, a Python value given to a compute function, `Array.to_numpy`), to ask
whether they are pandas objects. `batch` never hands it any, yet that import was 0.45 s of the
1.1 s a batch process took to start (measured on a 10-record file), paid again by each worker.
These build the same arrays from their buffers (`pa.Array.from_buffers`), which imports
nothing; `tests/test_arrays.py` compares each with pyarrow's own conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

_INT_TYPES = {8: pa.int8(), 16: pa.int16(), 32: pa.int32(), 64: pa.int64()}


def _validity(valid: Any, n: int) -> Any:
    """The validity bitmap of `valid` (true where a value is not null), or None if none is null."""
    valid = np.asarray(valid, dtype=bool)
    if len(valid) != n:
        raise ValueError(f"{len(valid)} validity flags for {n} values")
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def ints(values: Any, kind: Any = None, valid: Any = None) -> pa.Array:
    """The integers of `values` (a numpy array or a sequence) as an Arrow array of `kind` (a
    signed integer type, int64 unless given); with `valid`, null where it is false."""
    kind = kind or pa.int64()
    width = np.dtype(f"int{kind.bit_width}")
    given = np.asarray(values)
    if given.ndim != 1:
        raise ValueError("one-dimensional values only")
    if len(given) and given.dtype.kind in "iu" and given.dtype.itemsize > width.itemsize:
        low, high = int(given.min()), int(given.max())
        if low < np.iinfo(width).min or high > np.iinfo(width).max:  # as pa.array refuses, not numpy's wrap-around
            raise OverflowError(f"values from {low} to {high} do not fit {kind}")
    data = np.ascontiguousarray(given, dtype=width)
    bitmap = None if valid is None else _validity(valid, len(data))
    return pa.Array.from_buffers(kind, len(data), [bitmap, pa.py_buffer(data)])


def bools(values: Any) -> pa.Array:
    """The truth values of `values` (a numpy array or a sequence) as an Arrow boolean array."""
    flags = np.asarray(values, dtype=bool)
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(np.packbits(flags, bitorder="little"))])


def texts(values: Sequence[str | None]) -> pa.Array:
    """Text values (None: null) as an Arrow string array (large_string past 2 GiB of text)."""
    n = len(values)
    nulls = None in values
    given: Sequence[str] = [v or "" for v in values] if nulls else values  # type: ignore[assignment]
    joined = "".join(given)
    data = joined.encode()
    if len(data) == len(joined):  # ASCII (the common case): each character is one byte
        lengths = np.fromiter(map(len, given), dtype=np.int64, count=n)
    else:
        encoded = [v.encode() for v in given]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    kind, width = (pa.string(), np.int32) if len(data) < 2**31 else (pa.large_string(), np.int64)
    offsets = np.zeros(n + 1, dtype=width)
    np.cumsum(lengths, out=offsets[1:])
    bitmap = _validity([v is not None for v in values], n) if nulls else None
    return pa.Array.from_buffers(kind, n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)])


def text(value: str) -> pa.Scalar:
    """One text as an Arrow scalar (for a compute function's argument)."""
    return texts([value])[0]


def numpy_ints(array: pa.Array) -> Any:
    """An Arrow signed integer array without nulls as an int64 numpy array."""
    if array.null_count or array.type not in _INT_TYPES.values():
        raise ValueError(f"no nulls and a signed integer type only, not {array.type} with {array.null_count} nulls")
    width = np.dtype(f"int{array.type.bit_width}")
    data = np.frombuffer(array.buffers()[1], dtype=width, count=len(array), offset=array.offset * width.itemsize)
    return data.astype(np.int64)


def numpy_objects(array: pa.Array) -> Any:
    """An Arrow array's values as a numpy array of Python objects (None for null)."""
    found = np.empty(len(array), dtype=object)
    found[:] = array.to_pylist()
    return found
