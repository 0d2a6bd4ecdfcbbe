// fpaudit convert (lib/convert): what the rewritten model holds, built from small models whose
// answer is known, and the operator type rules read from ONNX's schemas.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "convert/half_convert.h"
#include "convert/type_rules.h"
#include "format/format.h"
#include "format/round.h"
#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;
using convert::Need;

namespace {

/// x [N,4] -> Gemm(w1 [3,4], b1) -> Relu -> Gemm(w2 [2,3]) -> y: node names "g1", "r", "g2".
ModelBuilder two_gemms(float big = 0.5f) {
  ModelBuilder b(13);
  b.input("x", kFloat, {-1, 4}).output("y", kFloat, {-1, 2});
  b.initializer(float_tensor("w1", {3, 4}, {0.1f, -0.2f, 0.3f, big, 0.5f, 0.6f, -0.7f, 0.8f, 0.9f, 1.0f, 1.1f, 1.2f}));
  b.initializer(float_tensor("b1", {3}, {0.01f, 0.02f, 0.03f}));
  b.initializer(float_tensor("w2", {2, 3}, {1.5f, -2.5f, 0.333333f, 4.0f, 0.1f, 0.2f}));
  set_attr(b.node("Gemm", {"x", "w1", "b1"}, {"h"}, "g1"), "transB", std::int64_t{1});
  b.node("Relu", {"h"}, {"hr"}, "r");
  set_attr(b.node("Gemm", {"hr", "w2"}, {"y"}, "g2"), "transB", std::int64_t{1});
  return b;
}

onnx::ModelProto parsed(const ConvertResult& r) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(r.model_bytes));
  return m;
}

const onnx::TensorProto& initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return t;
  FAIL("no initializer " << name);
  return m.graph().initializer(0);
}

/// (op, input -> output) of every node, in order.
std::vector<std::string> node_lines(const onnx::ModelProto& m) {
  std::vector<std::string> lines;
  for (const auto& n : m.graph().node()) {
    std::string line = n.op_type() + " " + (n.input_size() ? n.input(0) : "") + " -> " + n.output(0);
    for (const auto& a : n.attribute())
      if (a.name() == "to") line += " to=" + std::to_string(a.i());
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("all-fp16: weights rounded to nearest binary16, a Cast in after the input and out before the output") {
  TempDir dir;
  const auto path = two_gemms().save(dir / "m.onnx");
  const ConvertResult r = convert_to_half(path, {});
  const onnx::ModelProto m = parsed(r);
  CHECK(node_lines(m) == std::vector<std::string>{"Cast x -> x_fp16 to=10", "Gemm x_fp16 -> h", "Relu h -> hr", "Gemm hr -> y_fp16",
                                                  "Cast y_fp16 -> y to=1"});
  CHECK(r.converted_nodes == 3);
  CHECK(r.cast_nodes == 2);
  CHECK(r.kept.empty());
  CHECK(r.converted_constants == 3);
  // The graph's interface is unchanged: users feed and read float32.
  CHECK(m.graph().input(0).type().tensor_type().elem_type() == kFloat);
  CHECK(m.graph().output(0).type().tensor_type().elem_type() == kFloat);
  // 0.333333f rounds to the binary16 0x3555 (0.33325195...), exactly as round_to does.
  const onnx::TensorProto& w2 = initializer(m, "w2");
  REQUIRE(w2.data_type() == kFloat16);
  REQUIRE(w2.raw_data().size() == 12);
  std::uint16_t bits = 0;
  std::memcpy(&bits, w2.raw_data().data() + 4, 2);
  CHECK(bits == 0x3555);
  // The written model loads back with binary16 constants holding the rounded values.
  const Graph g = parse_onnx(std::as_bytes(std::span(r.model_bytes)), "converted.onnx");
  CHECK(g.constant("w2")->dtype == DType::Float16);
  CHECK(g.constant("w2")->values[2] == round_to(binary16(), static_cast<double>(0.333333f)));
}

TEST_CASE("kept nodes compute in float32 between Casts, their weights untouched") {
  TempDir dir;
  const auto path = two_gemms().save(dir / "m.onnx");
  const ConvertResult r = convert_to_half(path, {{"g2"}, DType::Float16});
  const onnx::ModelProto m = parsed(r);
  CHECK(node_lines(m) == std::vector<std::string>{"Cast x -> x_fp16 to=10", "Gemm x_fp16 -> h", "Relu h -> hr", "Cast hr -> hr_fp32 to=1",
                                                  "Gemm hr_fp32 -> y"});
  CHECK(r.kept == std::vector<std::string>{"g2"});
  CHECK(initializer(m, "w2").data_type() == kFloat);
  CHECK(initializer(m, "w1").data_type() == kFloat16);
  CHECK(r.float32_constants == 1);
  // The same conversion twice: the same bytes.
  CHECK(convert_to_half(path, {{"g2"}, DType::Float16}).model_bytes == r.model_bytes);
}

TEST_CASE("a weight binary16 cannot hold stays float32 behind a Cast, and is reported") {
  TempDir dir;
  const auto path = two_gemms(70000.0f).save(dir / "m.onnx");
  const ConvertResult r = convert_to_half(path, {});
  REQUIRE(r.overflowing.size() == 1);
  CHECK(r.overflowing[0].name == "w1");
  CHECK(r.overflowing[0].max_magnitude == 70000.0);
  CHECK(r.overflowing[0].elements_over == 1);
  CHECK(r.overflowing[0].consumers == std::vector<std::string>{"g1"});
  const onnx::ModelProto m = parsed(r);
  CHECK(initializer(m, "w1").data_type() == kFloat);
  CHECK(node_lines(m)[1] == "Cast w1 -> w1_fp16 to=10");
  CHECK(convert_summary(r, "m16.onnx", DType::Float16) ==
        "wrote m16.onnx: 3 nodes in binary16, 0 kept in float32, 3 Cast nodes at the boundaries; 2 float32 constants stored in "
        "binary16, 1 left in float32\n"
        "  weight 'w1': 1 element above binary16's largest finite value (max |w| = 70000): kept in float32 behind a Cast, which "
        "overflows to inf at run time in g1; keep it in float32 to avoid it\n");
  // Kept, its user reads it in float32: nothing to report.
  CHECK(convert_to_half(path, {{"g1"}, DType::Float16}).overflowing.empty());
  // bfloat16 holds 70000: converted.
  const ConvertResult bf = convert_to_half(path, {{}, DType::BFloat16});
  CHECK(bf.overflowing.empty());
  CHECK(initializer(parsed(bf), "w1").data_type() == kBfloat16);
}

TEST_CASE("bad input: an unknown --keep name, a model too old for bfloat16") {
  TempDir dir;
  const auto path = two_gemms().save(dir / "m.onnx");
  CHECK(error_of([&] { convert_to_half(path, {{"g3"}, DType::Float16}); }) ==
        path.string() + ": --keep: no node named 'g3' computes an output of this model (`fpaudit inspect` lists the names)");
  ModelBuilder old = two_gemms();
  old.model.mutable_opset_import(0)->set_version(11);
  const auto old_path = old.save(dir / "old.onnx");
  CHECK(error_of([&] { convert_to_half(old_path, {{}, DType::BFloat16}); }) ==
        old_path.string() + ": --format bf16 needs opset 13 or later (the model imports opset 11)");
}

TEST_CASE("the keep list: a comma list, or a file with comments") {
  CHECK(parse_keep_list("a, /b/Gemm ,,c") == std::vector<std::string>{"a", "/b/Gemm", "c"});
  CHECK(parse_keep_list("").empty());
  TempDir dir;
  const auto file = dir / "keep.txt";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("# kept by advise\n/net/net.5/Gemm  # the head\n\n  Softmax_12\n", f);
    std::fclose(f);
  }
  CHECK(parse_keep_list(file.string()) == std::vector<std::string>{"/net/net.5/Gemm", "Softmax_12"});
}

TEST_CASE("the block lists quote what their languages need") {
  CHECK(block_lists_text({"/a/Gemm", "it's"}) ==
        "# The 2 nodes kept in float32, in the forms other tools take.\n"
        "# onnxconverter-common: float16.convert_float_to_float16(model, node_block_list=node_block_list)\n"
        "node_block_list=['/a/Gemm', 'it\\'s']\n"
        "# Polygraphy (TensorRT layer names are the ONNX node names): polygraphy run model.onnx --trt --fp16 "
        "--precision-constraints obey ...\n"
        "--layer-precisions /a/Gemm:float32 'it'\\''s:float32'\n"
        "# ModelOpt AutoCast: python -m modelopt.onnx.autocast --onnx_path model.onnx ...\n"
        "--nodes_to_exclude /a/Gemm 'it'\\''s'\n");
}

TEST_CASE("operator type rules come from ONNX's schemas") {
  const std::string h = "tensor(float16)";
  const auto resize = convert::operator_types("Resize", 13, h);
  CHECK(resize.input(0) == Need::Half);
  CHECK(resize.input(1) == Need::Any);     // roi: T2, its own parameter
  CHECK(resize.input(2) == Need::Single);  // scales: tensor(float) only
  CHECK(convert::operator_types("Pow", 7, h).input(1) == Need::Half);   // one T for base and exponent
  CHECK(convert::operator_types("Pow", 13, h).input(1) == Need::Any);   // T1 since opset 12
  CHECK(convert::operator_types("Cast", 13, h).input(0) == Need::Any);
  CHECK(convert::operator_types("Shape", 13, h).input(0) == Need::Any);
  CHECK(convert::operator_types("Gemm", 13, h).input(2) == Need::Half);
  CHECK(convert::operator_types("LayerNormalization", 17, h).output(0) == Need::Half);
  CHECK(convert::operator_types("LayerNormalization", 17, h).output(1) == Need::Single);  // Mean: U, float or bfloat16
  CHECK(convert::operator_types("Conv", 13, "tensor(bfloat16)").input(0) == Need::Single);  // no bfloat16 Conv in opset 13
}

TEST_CASE("declared value types follow the values; Resize's scales stay float32") {
  TempDir dir;
  ModelBuilder b = two_gemms();
  for (const char* v : {"h", "hr"}) {
    onnx::ValueInfoProto* info = b.model.mutable_graph()->add_value_info();
    info->set_name(v);
    info->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
  }
  const auto path = b.save(dir / "m.onnx");
  // g2 kept: hr is still computed in binary16 (by r) and cast to float32 for g2.
  const onnx::ModelProto m = parsed(convert_to_half(path, {{"g2"}, DType::Float16}));
  for (const auto& v : m.graph().value_info()) CHECK_MESSAGE(v.type().tensor_type().elem_type() == kFloat16, v.name());

  ModelBuilder r(13);
  r.input("x", kFloat, {1, 1, 2, 2}).output("y", kFloat, {1, 1, 4, 4});
  r.initializer(float_tensor("scales", {4}, {1, 1, 2, 2}));
  set_attr(r.node("Resize", {"x", "", "scales"}, {"y"}, "up"), "mode", std::string("linear"));
  const onnx::ModelProto up = parsed(convert_to_half(r.save(dir / "r.onnx"), {}));
  CHECK(initializer(up, "scales").data_type() == kFloat);
  CHECK(node_lines(up) == std::vector<std::string>{"Cast x -> x_fp16 to=10", "Resize x_fp16 -> y_fp16", "Cast y_fp16 -> y to=1"});
}

TEST_CASE("weights stored as external data are written into the converted model") {
  TempDir dir;
  ModelBuilder b = two_gemms();
  // w2 (kept in float32 with g2) and w1 (converted) both from a file beside the source model.
  {
    std::FILE* f = std::fopen((dir / "w.bin").c_str(), "wb");
    for (const auto& t : b.model.graph().initializer())
      if (t.name() == "w1" || t.name() == "w2")
        for (float v : t.float_data()) std::fwrite(&v, 4, 1, f);
    std::fclose(f);
  }
  long offset = 0;
  for (auto& t : *b.model.mutable_graph()->mutable_initializer()) {
    if (t.name() != "w1" && t.name() != "w2") continue;
    const long bytes = 4L * t.float_data_size();
    t.clear_float_data();
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    for (const auto& [k, v] : {std::pair<std::string, std::string>{"location", "w.bin"}, {"offset", std::to_string(offset)},
                               {"length", std::to_string(bytes)}}) {
      auto* e = t.add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    offset += bytes;
  }
  const ConvertResult r = convert_to_half(b.save(dir / "m.onnx"), {{"g2"}, DType::Float16});
  const onnx::ModelProto m = parsed(r);
  for (const char* w : {"w1", "w2"}) CHECK(initializer(m, w).data_location() == onnx::TensorProto::DEFAULT);
  // Loaded from bytes alone (no folder to find w.bin in), w2 holds its float32 values.
  const Graph g = parse_onnx(std::as_bytes(std::span(r.model_bytes)), "");
  CHECK(g.constant("w2")->dtype == DType::Float32);
  CHECK(g.constant("w2")->values[1] == -2.5);
  CHECK(g.constant("w1")->values[3] == 0.5);
}

TEST_CASE("bfloat16: an operator without a bfloat16 type stays float32 between Casts, and is named") {
  TempDir dir;
  ModelBuilder b(13);
  b.input("x", kFloat, {1, 1, 3, 3}).output("y", kFloat, {1, 1, 3, 3});
  b.initializer(float_tensor("w", {1, 1, 1, 1}, {0.5f}));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"y"}, "relu");
  const ConvertResult r = convert_to_half(b.save(dir / "m.onnx"), {{}, DType::BFloat16});
  CHECK(r.float32_by_schema == std::vector<std::string>{"conv"});
  CHECK(r.converted_nodes == 1);
  const onnx::ModelProto m = parsed(r);
  CHECK(initializer(m, "w").data_type() == kFloat);
  CHECK(node_lines(m) == std::vector<std::string>{"Conv x -> c", "Cast c -> c_bf16 to=16", "Relu c_bf16 -> y_bf16", "Cast y_bf16 -> y to=1"});
}
