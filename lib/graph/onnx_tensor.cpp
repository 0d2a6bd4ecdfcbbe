#include "graph/onnx_tensor.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "format/binary16.h"
#include "graph/dtype.h"
#include "graph/errors.h"
#include "graph/external_data.h"
#include "graph/file_io.h"
#include "graph/limits.h"
#include "graph/loader.h"

namespace fpaudit {

namespace {

/// Reads little-endian element i of a raw byte buffer as the dtype's value.
template <class T>
T load_le(const char* p) {
  static_assert(std::endian::native == std::endian::little, "fpaudit reads little-endian data on little-endian hosts");
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

double float16_value(std::uint32_t bits) { return b16::to_float(static_cast<std::uint16_t>(bits)); }
double bfloat16_value(std::uint32_t bits) { return std::bit_cast<float>((bits & 0xFFFFu) << 16); }

/// Fills the constant from little-endian bytes (raw_data or external data).
void decode_raw(const std::string& bytes, Constant& c) {
  const auto n = static_cast<std::size_t>(c.size());
  const char* p = bytes.data();
  switch (c.dtype) {
    case DType::Float32: for (std::size_t i = 0; i < n; ++i) c.values[i] = load_le<float>(p + 4 * i); break;
    case DType::Float64: for (std::size_t i = 0; i < n; ++i) c.values[i] = load_le<double>(p + 8 * i); break;
    case DType::Float16: for (std::size_t i = 0; i < n; ++i) c.values[i] = float16_value(load_le<std::uint16_t>(p + 2 * i)); break;
    case DType::BFloat16: for (std::size_t i = 0; i < n; ++i) c.values[i] = bfloat16_value(load_le<std::uint16_t>(p + 2 * i)); break;
    case DType::Int64: for (std::size_t i = 0; i < n; ++i) c.ints[i] = load_le<std::int64_t>(p + 8 * i); break;
    case DType::Int32: for (std::size_t i = 0; i < n; ++i) c.ints[i] = load_le<std::int32_t>(p + 4 * i); break;
    case DType::Int8: for (std::size_t i = 0; i < n; ++i) c.ints[i] = load_le<std::int8_t>(p + i); break;
    case DType::UInt8: for (std::size_t i = 0; i < n; ++i) c.ints[i] = load_le<std::uint8_t>(p + i); break;
    case DType::Bool: for (std::size_t i = 0; i < n; ++i) c.ints[i] = p[i] != 0 ? 1 : 0; break;
    case DType::Undefined: break;
  }
}

/// The typed field that holds this dtype's elements, and how many it has.
int typed_field_size(const onnx::TensorProto& t, DType d) {
  switch (d) {
    case DType::Float32: return t.float_data_size();
    case DType::Float64: return t.double_data_size();
    case DType::Int64: return t.int64_data_size();
    default: return t.int32_data_size();  // int32, int8, uint8, bool, float16/bfloat16 bits
  }
}

void decode_typed(const onnx::TensorProto& t, Constant& c, const std::filesystem::path& model, std::string_view what) {
  const auto n = static_cast<int>(c.size());
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    switch (c.dtype) {
      case DType::Float32: c.values[u] = t.float_data(i); break;
      case DType::Float64: c.values[u] = t.double_data(i); break;
      case DType::Int64: c.ints[u] = t.int64_data(i); break;
      case DType::Float16:
      case DType::BFloat16: {
        // int32_data holds the 16-bit pattern; anything wider is not a float16 value.
        const std::int32_t bits = t.int32_data(i);
        if (bits < 0 || bits > 0xFFFF)
          fail(model, fmt::format("{}: int32_data[{}] = {} is not a 16-bit pattern", what, i, bits));
        c.values[u] = c.dtype == DType::Float16 ? float16_value(static_cast<std::uint32_t>(bits))
                                                : bfloat16_value(static_cast<std::uint32_t>(bits));
        break;
      }
      default: {
        const std::int64_t v = t.int32_data(i);
        if (wrap_to(c.dtype, v) != v && c.dtype != DType::Bool)
          fail(model, fmt::format("{}: int32_data[{}] = {} is out of range for {}", what, i, v, dtype_name(c.dtype)));
        c.ints[u] = wrap_to(c.dtype, v);
        break;
      }
    }
  }
}

}  // namespace

Constant tensor_to_constant(const onnx::TensorProto& t, TensorContext& context, std::string_view what) {
  const std::filesystem::path& model = context.model;
  Constant c;
  c.dtype = dtype_from_onnx(t.data_type());
  if (c.dtype == DType::Undefined)
    fail(model, fmt::format("{}: element type {} is not supported (fpaudit reads FLOAT16, BFLOAT16, FLOAT, DOUBLE, "
                            "INT64, INT32, INT8, UINT8, BOOL)",
                            what, onnx_type_name(t.data_type())));
  if (t.has_segment()) fail(model, fmt::format("{}: segmented tensors are not supported", what));
  if (t.dims_size() > kMaxRank)
    fail(model, fmt::format("{}: rank {} exceeds fpaudit's limit of {}", what, t.dims_size(), kMaxRank));
  for (std::int64_t d : t.dims()) {
    if (d < 0) fail(model, fmt::format("{}: negative dimension {} in dims", what, d));
    if (d > kMaxValueElements) fail(model, fmt::format("{}: dimension {} exceeds fpaudit's limit of {}", what, d, kMaxValueElements));
    c.shape.push_back(d);
  }
  const std::int64_t n = c.size();
  if (n > kMaxConstantElements - context.elements_used)
    fail(model, fmt::format("{}: {} elements would exceed fpaudit's limit of {} constant elements per model", what,
                            n, kMaxConstantElements));
  const std::size_t bytes = static_cast<std::size_t>(n) * dtype_size(c.dtype);

  // Check the data's size against the dims before allocating anything.
  const bool external = t.data_location() == onnx::TensorProto::EXTERNAL;
  std::string external_bytes;
  if (external) {
    external_bytes = read_external_data(t, model, what, bytes);
  } else if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes)
      fail(model, fmt::format("{}: raw_data holds {} bytes but dims {} of {} need {}", what, t.raw_data().size(),
                              shape_string(c.shape), dtype_name(c.dtype), bytes));
  } else if (typed_field_size(t, c.dtype) != n) {
    fail(model, fmt::format("{}: holds {} values but dims {} need {}", what, typed_field_size(t, c.dtype),
                            shape_string(c.shape), n));
  }

  if (is_float(c.dtype)) c.values.resize(static_cast<std::size_t>(n));
  else c.ints.resize(static_cast<std::size_t>(n));
  if (external) decode_raw(external_bytes, c);
  else if (t.has_raw_data()) decode_raw(t.raw_data(), c);
  else decode_typed(t, c, model, what);
  context.elements_used += n;
  return c;
}

namespace {
/// clear_*() keeps a field's capacity; a swap with an empty field hands the memory back.
template <class Field>
void free_field(Field* field) {
  Field().Swap(field);
}
}  // namespace

void release_tensor_data(onnx::TensorProto& t) {
  std::string().swap(*t.mutable_raw_data());
  free_field(t.mutable_float_data());
  free_field(t.mutable_double_data());
  free_field(t.mutable_int32_data());
  free_field(t.mutable_int64_data());
}

Constant parse_onnx_tensor(std::span<const std::byte> bytes, const std::filesystem::path& source) {
  onnx::TensorProto tensor;
  if (bytes.size() > static_cast<std::size_t>(kMaxModelBytes) ||
      !tensor.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(source, "not a valid ONNX tensor (the protobuf encoding is truncated or corrupt)");
  TensorContext context{source, 0};
  return tensor_to_constant(tensor, context, fmt::format("tensor '{}'", tensor.name()));
}

Constant read_onnx_tensor(const std::filesystem::path& path) { return parse_onnx_tensor(read_file(path, kMaxModelBytes), path); }

}  // namespace fpaudit
