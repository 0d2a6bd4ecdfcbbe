// External data: tensors stored in files beside the model are read only from inside the
// model's own folder.
#include <fstream>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

void write_bytes(const std::filesystem::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

std::string float_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

/// x[2] + W[2] with W stored externally at `location` (offset/length when not empty).
ModelBuilder external_model(const std::string& location, const std::string& offset = "", const std::string& length = "") {
  ModelBuilder m;
  m.input("x", kFloat, {2}).output("y");
  onnx::TensorProto w = float_tensor("W", {2}, {});
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const std::string& k, const std::string& v) {
    auto* e = w.add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  if (!offset.empty()) add("offset", offset);
  if (!length.empty()) add("length", length);
  m.initializer(w);
  m.node("Add", {"x", "W"}, {"y"});
  return m;
}

}  // namespace

TEST_CASE("external data inside the model's folder is read, with offset and length") {
  TempDir dir;
  std::filesystem::create_directories(dir / "weights");
  write_bytes(dir / "weights" / "w.bin", "pad!" + float_bytes({1.5f, -2.0f}) + "tail");
  const Graph g = load_onnx(external_model("weights/w.bin", "4", "8").save(dir / "m.onnx"));
  CHECK(g.constant("W")->values == std::vector<double>{1.5, -2.0});

  write_bytes(dir / "exact.bin", float_bytes({3.0f, 4.0f}));
  CHECK(load_onnx(external_model("exact.bin").save(dir / "m2.onnx")).constant("W")->values ==
        std::vector<double>{3.0, 4.0});
}

TEST_CASE("external data outside the folder, or malformed, is refused") {
  TempDir dir;
  std::filesystem::create_directories(dir / "model");
  write_bytes(dir / "secret.bin", float_bytes({1, 2}));
  write_bytes(dir / "model" / "w.bin", float_bytes({1, 2}));
  const std::string m = (dir / "model" / "m.onnx").string();
  auto load = [&](const ModelBuilder& b) { return error_of([&] { load_onnx(b.save(m)); }); };

  CHECK(load(external_model("../secret.bin")) ==
        m + ": initializer 'W': external data location '../secret.bin' contains '..'; only files inside the model's "
            "folder are read");
  CHECK(load(external_model((dir / "secret.bin").string())) ==
        m + ": initializer 'W': external data location '" + (dir / "secret.bin").string() +
            "' is an absolute path; only files inside the model's folder are read");
  std::filesystem::create_symlink(dir / "secret.bin", dir / "model" / "link.bin");
  CHECK(load(external_model("link.bin")) ==
        m + ": initializer 'W': external data location 'link.bin' resolves outside the model's folder (to " +
            std::filesystem::canonical(dir / "secret.bin").string() + ")");
  CHECK(load(external_model("missing.bin")) ==
        m + ": initializer 'W': external data file 'missing.bin' cannot be opened (No such file or directory)");
  CHECK(load(external_model("w.bin", "4")) ==
        m + ": initializer 'W': external data file 'w.bin' holds 8 bytes, fewer than offset 4 + 8 bytes the tensor needs");
  CHECK(load(external_model("w.bin", "", "12")) ==
        m + ": initializer 'W': external data length 12 does not match the tensor's 8 bytes");
  CHECK(load(external_model("w.bin", "-1")) == m + ": initializer 'W': external data has a malformed offset '-1'");
  CHECK(load(external_model("")) == m + ": initializer 'W': external data has no location");
  CHECK(error_of([&] { external_model("w.bin").parse(""); }) ==
        "<memory>: initializer 'W': external data cannot be read: the model was not loaded from a file");
}
