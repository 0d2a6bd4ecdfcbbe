// onnx::TensorProto → Constant: every element type fpaudit reads, from raw_data, the typed
// fields or external data, with the sizes checked against the dims before anything is
// allocated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "graph/graph.h"

namespace onnx {
class TensorProto;
}

namespace fpaudit {

/// Where a tensor comes from: the model (for messages and external data) and how many
/// constant elements the model has used so far (for the kMaxConstantElements budget).
struct TensorContext {
  std::filesystem::path model;
  std::int64_t elements_used = 0;
  std::int64_t opset = 0;  ///< the model's default-domain opset (bodies share it)
};

/// Converts a tensor, naming it `what` ("initializer 'w'", "node 'c' (Constant)") in messages.
Constant tensor_to_constant(const onnx::TensorProto& tensor, TensorContext& context, std::string_view what);

/// Frees the tensor's data fields (their memory, not only their contents) once they are converted.
void release_tensor_data(onnx::TensorProto& tensor);

}  // namespace fpaudit
