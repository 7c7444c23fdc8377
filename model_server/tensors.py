"""TensorProto <-> numpy without TensorFlow ops: shape and dtype first, bytes only after checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

# dtype enum -> (numpy dtype, the repeated field that carries values when not packed).
_DTYPES: dict[int, tuple[np.dtype, str]] = {
    types_pb2.DT_FLOAT: (np.dtype("<f4"), "float_val"),
    types_pb2.DT_DOUBLE: (np.dtype("<f8"), "double_val"),
    types_pb2.DT_HALF: (np.dtype("<f2"), "half_val"),
    types_pb2.DT_INT8: (np.dtype("i1"), "int_val"),
    types_pb2.DT_UINT8: (np.dtype("u1"), "int_val"),
    types_pb2.DT_INT16: (np.dtype("<i2"), "int_val"),
    types_pb2.DT_UINT16: (np.dtype("<u2"), "int_val"),
    types_pb2.DT_INT32: (np.dtype("<i4"), "int_val"),
    types_pb2.DT_INT64: (np.dtype("<i8"), "int64_val"),
    types_pb2.DT_UINT32: (np.dtype("<u4"), "uint32_val"),
    types_pb2.DT_UINT64: (np.dtype("<u8"), "uint64_val"),
    types_pb2.DT_BOOL: (np.dtype("?"), "bool_val"),
}
_BY_NUMPY = {dtype: enum for enum, (dtype, _) in _DTYPES.items()}


class TensorError(ValueError):
    """A TensorProto that cannot be turned into an array (the caller's fault)."""


@dataclass(frozen=True)
class TensorHeader:
    """What a TensorProto claims before its values are read."""

    dtype: int
    shape: tuple[int, ...]

    @property
    def dtype_name(self) -> str:
        return dtype_name(self.dtype)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def dtype_name(dtype: int) -> str:
    try:
        return types_pb2.DataType.Name(dtype)
    except ValueError:
        return f"dtype {dtype}"


def numpy_dtype(dtype: int) -> np.dtype:
    """The numpy dtype of a TensorFlow dtype enum (TensorError when unsupported)."""
    try:
        return _DTYPES[dtype][0]
    except KeyError:
        raise TensorError(f"unsupported dtype {dtype_name(dtype)}") from None


def format_shape(shape: tuple[int, ...] | list[int]) -> str:
    """TensorFlow Serving's notation: -1 for a dimension of any size."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def header(proto: tensor_pb2.TensorProto) -> TensorHeader:
    """dtype and shape of `proto`; never touches (or allocates) its values."""
    if proto.tensor_shape.unknown_rank:
        raise TensorError("tensor_shape has unknown rank; send a fully defined shape")
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    if any(d < 0 for d in shape):
        raise TensorError(f"tensor_shape {format_shape(shape)} has a negative dimension")
    return TensorHeader(proto.dtype, shape)


def to_ndarray(proto: tensor_pb2.TensorProto, head: TensorHeader | None = None) -> np.ndarray:
    """The array a TensorProto carries, packed (tensor_content) or in its typed field.

    As in TensorFlow, a typed field holding a single value fills the whole shape.
    Check `header(proto)` against your limits before calling this.
    """
    head = head or header(proto)
    if head.dtype not in _DTYPES:
        raise TensorError(f"unsupported dtype {head.dtype_name}")
    dtype, field = _DTYPES[head.dtype]
    size = head.size
    content = proto.tensor_content  # each access copies the bytes out of the message: once
    if content:
        if len(content) != size * dtype.itemsize:
            raise TensorError(
                f"tensor_content has {len(content)} bytes; shape "
                f"{format_shape(head.shape)} of {head.dtype_name} needs {size * dtype.itemsize}"
            )
        return np.frombuffer(content, dtype=dtype).reshape(head.shape)
    values = getattr(proto, field)
    if head.dtype == types_pb2.DT_HALF:
        # half_val carries the float16 bit patterns in int32s.
        array = np.asarray(values, dtype=np.uint16).view(np.float16)
    else:
        array = np.asarray(values, dtype=dtype)
    if array.size == size:
        return array.reshape(head.shape)
    if array.size == 1:
        return np.full(head.shape, array[0], dtype=dtype)
    raise TensorError(
        f"{field} has {array.size} values; shape {format_shape(head.shape)} needs {size}"
    )


def to_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """A packed TensorProto (tensor_content, little-endian, C order) of `array`."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    if dtype not in _BY_NUMPY:
        raise TensorError(f"unsupported numpy dtype {array.dtype}")
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape]
    )
    return tensor_pb2.TensorProto(
        dtype=_BY_NUMPY[dtype],
        tensor_shape=shape,
        tensor_content=np.ascontiguousarray(array, dtype=dtype).tobytes(),
    )
