#include "graph/dtype.h"

#include "format/format.h"
#include "format/round.h"

namespace fpaudit {

namespace {
// TensorProto.DataType, onnx.proto (IR version 8).
enum OnnxType : std::int64_t {
  kUndefined = 0, kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13, kComplex64 = 14,
  kComplex128 = 15, kBfloat16 = 16,
};
}  // namespace

DType dtype_from_onnx(std::int64_t onnx_type) {
  switch (onnx_type) {
    case kFloat: return DType::Float32;
    case kFloat16: return DType::Float16;
    case kDouble: return DType::Float64;
    case kBfloat16: return DType::BFloat16;
    case kInt64: return DType::Int64;
    case kInt32: return DType::Int32;
    case kInt8: return DType::Int8;
    case kUint8: return DType::UInt8;
    case kBool: return DType::Bool;
    default: return DType::Undefined;
  }
}

std::string_view onnx_type_name(std::int64_t onnx_type) {
  constexpr std::string_view names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",
                                        "INT32",     "INT64",  "STRING", "BOOL",      "FLOAT16",    "DOUBLE",
                                        "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (onnx_type < 0 || onnx_type >= static_cast<std::int64_t>(std::size(names))) return "an unknown type";
  return names[onnx_type];
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float64:
    case DType::Int64: return 8;
    case DType::Float32:
    case DType::Int32: return 4;
    case DType::Float16:
    case DType::BFloat16: return 2;
    case DType::Int8:
    case DType::UInt8:
    case DType::Bool: return 1;
    case DType::Undefined: return 0;
  }
  return 0;
}

std::int64_t wrap_to(DType t, std::int64_t v) {
  switch (t) {
    case DType::Int32: return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    case DType::Int8: return static_cast<std::int8_t>(static_cast<std::uint8_t>(v));
    case DType::UInt8: return static_cast<std::uint8_t>(v);
    case DType::Bool: return v != 0 ? 1 : 0;
    default: return v;
  }
}

double round_to_dtype(DType t, double x) {
  switch (t) {
    case DType::Float32: return round_to(binary32(), x);
    case DType::Float16: return round_to(binary16(), x);
    case DType::BFloat16: return round_to(bfloat16(), x);
    default: return x;
  }
}

}  // namespace fpaudit
