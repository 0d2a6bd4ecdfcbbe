// fpaudit convert: an ONNX model rewritten to run in binary16 (or bfloat16) except the nodes the
// user keeps in float32, with Cast nodes at every boundary between the two, graph inputs and
// outputs still float32, and float32 weights the 16-bit format cannot hold left in float32
// behind a Cast (and listed). The rules, in order of precedence:
//   - a node is converted unless kept; a converted node's float32 inputs become 16-bit where its
//     ONNX type constraint ties them to its outputs (type_rules.h), stay float32 where the
//     constraint allows no 16-bit type (Resize's scales), and are left as they are otherwise;
//   - a float32 constant (initializer or Constant node) becomes 16-bit when no consumer needs
//     float32 and every value fits; otherwise it stays float32 and a Cast feeds its 16-bit users;
//   - one Cast per (value, type), placed before its first user, shared by all of them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

struct ConvertOptions {
  std::vector<std::string> keep;  ///< node names (fpaudit's, as `fpaudit inspect` lists them) kept in float32
  DType target = DType::Float16;  ///< Float16 or BFloat16
};

/// A float32 weight whose magnitude the 16-bit format cannot hold: kept in float32, with a Cast
/// after it for its 16-bit users (the Cast still overflows at run time: keep those users too).
struct OverflowingWeight {
  std::string name;
  double max_magnitude = 0;
  long elements_over = 0;                ///< elements above the format's largest finite value
  std::vector<std::string> consumers;    ///< the converted nodes reading it through the Cast
};

struct ConvertResult {
  std::string model_bytes;                    ///< the serialized ModelProto (deterministic)
  std::vector<std::string> kept;              ///< the kept nodes, in the model's node order
  std::vector<OverflowingWeight> overflowing;  ///< in initializer order
  /// Nodes with a 16-bit output; a node the user did not keep but whose operator takes no 16-bit
  /// type at the model's opset (Conv in bfloat16) keeps float32 between Casts.
  long converted_nodes = 0;
  long cast_nodes = 0;                        ///< Casts inserted
  long converted_constants = 0, float32_constants = 0;  ///< float32 constants turned 16-bit / left
  /// Nodes not kept whose operator takes no 16-bit type at the model's opset: float32 between Casts.
  std::vector<std::string> float32_by_schema;
  long dropped_nodes = 0;                     ///< nodes that fed no graph output (the loader drops them)
};

/// Converts the model at `path`. Bad input (an unreadable or unsupported model, a --keep name
/// that is no node of it, a format other than Float16/BFloat16) throws ModelError, one line.
ConvertResult convert_to_half(const std::filesystem::path& path, const ConvertOptions& options);

/// What `fpaudit convert` says after writing `out`: one line of counts, then one line per kept
/// node, per weight the format cannot hold, for the nodes left float32 by their operator's
/// schema, and for dropped nodes.
std::string convert_summary(const ConvertResult& r, const std::string& out, DType target);

/// The keep list of `fpaudit convert --keep`: the lines of a file (one node name per line; blank
/// lines and '#' comments skipped; surrounding spaces trimmed) when `text` names an existing
/// file, otherwise a comma-separated list.
std::vector<std::string> parse_keep_list(const std::string& text);

/// The kept nodes in the forms other tools take: onnxconverter-common's node_block_list (a
/// Python list literal), Polygraphy's --layer-precisions and ModelOpt AutoCast's
/// --nodes_to_exclude (shell words, quoted where needed).
std::string block_lists_text(const std::vector<std::string>& kept);

}  // namespace fpaudit
