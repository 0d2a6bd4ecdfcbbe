// Building small ONNX models in tests with the protobuf C++ API, so each test shows the model
// it loads next to what it expects.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph/graph.h"

namespace fpaudit::test {

/// ONNX TensorProto.DataType numbers used in tests.
enum OnnxType : int { kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt32 = 6, kInt64 = 7, kString = 8,
                      kBool = 9, kFloat16 = 10, kDouble = 11, kBfloat16 = 16 };

/// A tensor with typed fields (raw = false) or little-endian raw_data (raw = true).
onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<float>& values, bool raw = false);
onnx::TensorProto double_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                const std::vector<double>& values, bool raw = false);
/// float16 given as bit patterns.
onnx::TensorProto float16_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<std::uint16_t>& bits, bool raw = false);
onnx::TensorProto int64_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<std::int64_t>& values, bool raw = false);
onnx::TensorProto int32_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<std::int32_t>& values, bool raw = false);

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void set_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& value);
void set_attr(onnx::NodeProto& node, const std::string& name, const onnx::TensorProto& value);

class ModelBuilder {
 public:
  explicit ModelBuilder(std::int64_t opset = 13);

  /// A graph input; a dim of -1 is a named (symbolic) dimension "N".
  ModelBuilder& input(const std::string& name, int type, const std::vector<std::int64_t>& dims);
  /// A graph output, with a type when `type` is not 0 (undeclared) and a shape when `dims` is given.
  ModelBuilder& output(const std::string& name, int type = 0);
  ModelBuilder& output(const std::string& name, int type, const std::vector<std::int64_t>& dims);
  ModelBuilder& initializer(const onnx::TensorProto& tensor);
  /// Adds a node and returns it for attributes.
  onnx::NodeProto& node(const std::string& op, std::initializer_list<std::string> inputs,
                        std::initializer_list<std::string> outputs, const std::string& name = "");

  std::string bytes() const;
  /// parse_onnx of the bytes, named `source` in messages.
  Graph parse(const std::filesystem::path& source = "model.onnx") const;
  /// Writes the model to a file and returns its path.
  std::filesystem::path save(const std::filesystem::path& path) const;

  onnx::ModelProto model;
};

/// A fresh empty folder under the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Catches the ModelError of f() and returns its message ("" when nothing was thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace fpaudit::test

namespace fpaudit::test {

/// Parses the model and runs infer_shapes with the given input shapes.
Graph inferred(const ModelBuilder& m, const std::vector<Shape>& input_shapes);
/// The inferred shape of a value (constant or not); fails the test when it has none.
Shape shape_of(const Graph& g, const std::string& value);

}  // namespace fpaudit::test
