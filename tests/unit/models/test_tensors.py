"""TensorProto <-> numpy in model_server.tensors (no TensorFlow ops involved)."""

from __future__ import annotations

import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from model_server.tensors import TensorError, header, to_ndarray, to_tensor_proto


def _proto(dtype: int, shape: list[int], **fields: object) -> tensor_pb2.TensorProto:
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
    return tensor_pb2.TensorProto(
        dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=dims), **fields
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_packed_round_trip(dtype: type) -> None:
    array = (np.arange(24).reshape(2, 3, 4) % 2 == 1) if dtype is np.bool_ else None
    if array is None:
        array = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    proto = to_tensor_proto(array)
    assert header(proto).shape == (2, 3, 4)
    back = to_ndarray(proto)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_typed_fields_as_clients_without_tensor_content_send_them() -> None:
    proto = _proto(types_pb2.DT_UINT8, [2, 2], int_val=[1, 2, 3, 255])
    np.testing.assert_array_equal(to_ndarray(proto), np.array([[1, 2], [3, 255]], np.uint8))
    proto = _proto(types_pb2.DT_FLOAT, [3], float_val=[0.5])
    np.testing.assert_array_equal(to_ndarray(proto), np.full(3, 0.5, np.float32))


def test_malformed_tensors_are_refused() -> None:
    short = _proto(types_pb2.DT_UINT8, [2, 3], tensor_content=b"\x00" * 5)
    with pytest.raises(TensorError, match="needs 6"):
        to_ndarray(short)
    wrong_count = _proto(types_pb2.DT_FLOAT, [4], float_val=[1.0, 2.0])
    with pytest.raises(TensorError, match="needs 4"):
        to_ndarray(wrong_count)
    with pytest.raises(TensorError, match="negative"):
        header(_proto(types_pb2.DT_FLOAT, [-1, 2]))
    unknown_rank = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    )
    with pytest.raises(TensorError, match="unknown rank"):
        header(unknown_rank)
    with pytest.raises(TensorError, match="unsupported"):
        to_ndarray(_proto(types_pb2.DT_STRING, [1], string_val=[b"x"]))
