"""The Arrow arrays `arrays.py` builds through their buffers are the ones pyarrow's own
conversions build (which import pandas); read back, they give what `to_numpy` gives."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine import arrays

KINDS = {"int32": pa.int32(), "int64": pa.int64()}
small_ints = st.lists(st.integers(-(2**31), 2**31 - 1), max_size=70)


@given(values=small_ints, kind=st.sampled_from(sorted(KINDS)), data=st.data())
def test_ints_are_pyarrows_own(values, kind, data):
    valid = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    built = arrays.ints(np.asarray(values, dtype=np.int64), KINDS[kind], valid=valid)
    built.validate(full=True)
    expected = pa.array(values, KINDS[kind], mask=~np.asarray(valid, dtype=bool))
    assert built.equals(expected)
    assert built.to_pylist() == [v if ok else None for v, ok in zip(values, valid, strict=True)]
    assert arrays.ints(values).equals(pa.array(values, pa.int64()))


def test_ints_refuse_what_does_not_fit_as_pyarrow_does():
    too_big = np.asarray([1, 2**31], dtype=np.int64)
    with pytest.raises(OverflowError, match="int32"):
        arrays.ints(too_big, pa.int32())
    with pytest.raises(pa.ArrowInvalid):
        pa.array(too_big, pa.int32())
    assert arrays.ints(too_big).to_pylist() == [1, 2**31]
    assert arrays.ints(np.asarray([], dtype=np.int64), pa.int32()).to_pylist() == []


@given(st.lists(st.booleans(), max_size=70))
def test_bools_are_pyarrows_own(values):
    built = arrays.bools(np.asarray(values, dtype=bool))
    built.validate(full=True)
    assert built.equals(pa.array(values, pa.bool_()))


@given(st.lists(st.none() | st.text(st.characters(exclude_categories=("Cs",))), max_size=40))
def test_texts_are_pyarrows_own(values):
    built = arrays.texts(values)
    built.validate(full=True)
    assert built.type == pa.string()
    assert built.equals(pa.array(values, pa.string()))
    assert built.to_pylist() == values


def test_a_text_scalar_is_pyarrows_own():
    assert arrays.text('"').equals(pa.scalar('"', pa.string()))
    assert arrays.text("").as_py() == ""


@given(values=st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=70), data=st.data())
def test_numpy_ints_read_back_what_to_numpy_gives(values, data):
    start = data.draw(st.integers(0, len(values) - 1))  # a slice: an offset into the buffer
    for kind in KINDS.values():
        array = pa.array(values, kind).slice(start)
        found = arrays.numpy_ints(array)
        assert found.dtype == np.int64
        assert found.tolist() == array.to_numpy(zero_copy_only=False).astype(np.int64).tolist() == values[start:]


def test_numpy_ints_refuse_nulls_and_other_types():
    with pytest.raises(ValueError, match="nulls"):
        arrays.numpy_ints(pa.array([1, None], pa.int64()))
    with pytest.raises(ValueError, match="uint32"):
        arrays.numpy_ints(pa.array([1], pa.uint32()))


@given(st.lists(st.none() | st.binary(max_size=8), max_size=40))
def test_numpy_objects_are_what_to_numpy_gives(values):
    array = pa.array(values, pa.binary())
    found = arrays.numpy_objects(array)
    assert found.dtype == object
    assert found.tolist() == array.to_numpy(zero_copy_only=False).tolist() == values
