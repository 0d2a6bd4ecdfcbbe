// Reading models and data into the IR. Every failure throws ModelError with one line naming
// the file, the node or value, and the problem.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// The ONNX operators fpaudit evaluates (default domain), in alphabetical order. A model that
/// uses any other operator is refused by load_onnx, naming the operator and the node.
/// The list includes fold_only_operators().
std::span<const std::string_view> supported_operators();

/// The operators exporters emit for shape arithmetic (Range, Equal, Where, Expand, Neg, ...).
/// load_onnx accepts them, but infer_shapes must be able to fold them into constants: on a
/// value computed at run time they are refused, naming the node.
std::span<const std::string_view> fold_only_operators();

/// Parses an ONNX model (opsets 7 to 21): nodes in topological order (cycles refused),
/// initializers and Constant nodes as exact Constants (float16, float, double, int64, int32,
/// in raw_data or typed fields; external data only from inside the model's own folder),
/// declared input/output types and shapes.
///
/// Constant nodes become Constants and leave the node list; nodes that contribute to no graph
/// output are dropped, and optional outputs nobody reads are set to "". Node names are made
/// unique ("<op>_<index>" when empty, "<name>_<index>" when repeated).
Graph load_onnx(const std::filesystem::path& path);

/// load_onnx on bytes already in memory. `source` names the model in messages and locates its
/// external data (its folder); an empty source refuses external data.
Graph parse_onnx(std::span<const std::byte> bytes, const std::filesystem::path& source);

/// Gives every value a concrete shape for the given input shapes (one per graph input, in
/// order; dims must match the declared ones where those are fixed), and folds the shape
/// arithmetic exporters emit (Shape, Gather, Unsqueeze, Concat, Cast, ConstantOfShape, ... on
/// constants) into Constants, removing those nodes. Afterwards every remaining node has only
/// floating-point runtime inputs apart from constants.
///
/// A node whose inputs are all constants is evaluated once here when it is data movement or
/// exact-or-correctly-rounded arithmetic (results rounded to the node's dtype, as a runtime
/// computing in that dtype does); other float nodes on constants stay nodes. graph.inputs get
/// the given shapes, so a second call must pass the same shapes.
void infer_shapes(Graph& graph, std::span<const Shape> input_shapes);

/// Turns graph input `name` into the constant `value` (its dtype must match the declared one):
/// for integer inputs a test feeds (a Reshape's target shape, Gather indices).
void bind_input(Graph& graph, const std::string& name, Constant value);

/// A serialized onnx TensorProto (the input_0.pb / output_0.pb files of ONNX's test cases).
Constant read_onnx_tensor(const std::filesystem::path& path);
Constant parse_onnx_tensor(std::span<const std::byte> bytes, const std::filesystem::path& source);

/// NumPy .npy files (format versions 1.0-3.0): float16, float32, float64, uint8, int8, int32,
/// int64, bool; little-endian, C order only. Floating-point data goes to Constant::values,
/// integers to ints.
Constant read_npy(const std::filesystem::path& path);
/// read_npy on bytes in memory; `source` names them in messages.
Constant parse_npy(std::span<const std::byte> bytes, const std::filesystem::path& source);

/// NumPy .npz archives (numpy.savez: stored members; numpy.savez_compressed: deflated), as
/// (key, array) pairs in archive order; the key is the member name without ".npy". Each member is
/// read as read_npy reads a file, and its CRC-32 is checked.
std::vector<std::pair<std::string, Constant>> read_npz(const std::filesystem::path& path);
std::vector<std::pair<std::string, Constant>> parse_npz(std::span<const std::byte> bytes, const std::filesystem::path& source);
/// An .npz of stored members, "<key>.npy" each, in the given order; written atomically.
void write_npz(const std::filesystem::path& path, const std::vector<std::pair<std::string, Constant>>& arrays);
std::vector<std::byte> encode_npz(const std::vector<std::pair<std::string, Constant>>& arrays);

/// Writes dtype Float16/Float32/Float64 from values, Int32/Int64/Int8/UInt8/Bool from ints. The
/// file is written to a temporary name beside it and renamed, so a failure never leaves half a
/// file.
void write_npy(const std::filesystem::path& path, const Constant& array);
/// The bytes write_npy writes (format 1.0, or 2.0 when the header needs it).
std::vector<std::byte> encode_npy(const Constant& array);

}  // namespace fpaudit
