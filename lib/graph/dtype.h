// Element types: ONNX's TensorProto.DataType numbers, byte sizes, and the value range of the
// integer types. Kept free of protobuf so shape inference and NPY do not depend on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "graph/graph.h"

namespace fpaudit {

/// fpaudit's DType for an ONNX TensorProto.DataType number; Undefined for types fpaudit does
/// not read (string, int16, uint16, uint32, uint64, complex) and for unknown numbers.
DType dtype_from_onnx(std::int64_t onnx_type);
/// ONNX's name of a data type number ("FLOAT", "UINT16", ...), for messages.
std::string_view onnx_type_name(std::int64_t onnx_type);
/// Bytes per element (bool and the 8-bit types: 1).
std::size_t dtype_size(DType t);

/// Whether the dtype's values live in Constant::ints (integers and bool).
inline bool is_integral(DType t) { return !is_float(t) && t != DType::Undefined; }

/// Wraps an integer into t's range the way a two's-complement store does (bool: nonzero → 1).
std::int64_t wrap_to(DType t, std::int64_t v);

/// Rounds a binary64 value to the precision of the floating dtype t (to nearest even, as a
/// cast or an IEEE operation in that type does). Float64 returns x unchanged.
double round_to_dtype(DType t, double x);

}  // namespace fpaudit
