// What element type each float input and output of a node may take once the model runs in a
// 16-bit format, read from the ONNX operator schemas (their type constraints) of the model's
// opset, so that no table here can drift from the standard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fpaudit::convert {

enum class Need : std::uint8_t {
  Half,    ///< must be the 16-bit type: it shares its type parameter with the node's outputs
  Single,  ///< must stay float32: its type constraint does not allow the 16-bit type (Resize's scales)
  Any,     ///< a type parameter of its own that allows both (Resize's roi, Dropout's ratio, Shape's data)
};

/// The needs of one operator's input and output positions in `half_type` ("tensor(float16)" or
/// "tensor(bfloat16)").
struct OperatorTypes {
  std::vector<Need> inputs, outputs;
  Need input(std::size_t i) const { return inputs.empty() ? Need::Single : inputs[std::min(i, inputs.size() - 1)]; }
  Need output(std::size_t i) const { return outputs.empty() ? Need::Single : outputs[std::min(i, outputs.size() - 1)]; }
};

/// The schema of `op` at `opset` (the newest version not above it) read into needs. An operator
/// onnx does not know throws std::runtime_error naming it.
OperatorTypes operator_types(const std::string& op, std::int64_t opset, const std::string& half_type);

}  // namespace fpaudit::convert
