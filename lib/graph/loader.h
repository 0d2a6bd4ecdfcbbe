// Reading models and data into the IR. Every failure throws ModelError with one line naming
// the file, the node or value, and the problem.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "graph/graph.h"

namespace fpaudit {

/// The ONNX operators fpaudit evaluates (default domain), in alphabetical order. A model that
/// uses any other operator is refused by load_onnx, naming the operator and the node.
std::span<const std::string_view> supported_operators();

/// Parses an ONNX model (opsets 9 to 17): nodes in topological order (cycles refused),
/// initializers and Constant nodes as exact Constants (float16, float, double, int64, int32,
/// in raw_data or typed fields; external data only from inside the model's own folder),
/// declared input/output types and shapes.
Graph load_onnx(const std::filesystem::path& path);

/// Gives every value a concrete shape for the given input shapes (one per graph input, in
/// order; dims must match the declared ones where those are fixed), and folds the shape
/// arithmetic exporters emit (Shape, Gather, Unsqueeze, Concat, Cast, ConstantOfShape, ... on
/// constants) into Constants, removing those nodes. Afterwards every remaining node has only
/// floating-point runtime inputs apart from constants.
void infer_shapes(Graph& graph, std::span<const Shape> input_shapes);

/// NumPy .npy files (format versions 1.0-3.0): float16, float32, float64, uint8, int32, int64,
/// bool; C order only. Floating-point data goes to Constant::values, integers to ints.
Constant read_npy(const std::filesystem::path& path);
/// Writes dtype Float16/Float32/Float64 from values, Int32/Int64/UInt8 from ints. The file is
/// written to a temporary name beside it and renamed, so a failure never leaves half a file.
void write_npy(const std::filesystem::path& path, const Constant& array);

}  // namespace fpaudit
