// Reading a tensor's bytes from a file beside the model (ONNX "external data"), refusing any
// location that could reach outside the model's own folder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace onnx {
class TensorProto;
}

namespace fpaudit {

/// The `expected_bytes` bytes a tensor with data_location EXTERNAL refers to. Refused (ModelError
/// "<model>: <what>: ..."): a model without a folder (parsed from memory), a missing or empty
/// location, an absolute location, a location with a ".." component, one that resolves
/// (through symlinks) outside the model's folder or to something other than a regular file,
/// and offset/length that do not match the file and the tensor's size.
std::string read_external_data(const onnx::TensorProto& tensor, const std::filesystem::path& model,
                               std::string_view what, std::size_t expected_bytes);

}  // namespace fpaudit
