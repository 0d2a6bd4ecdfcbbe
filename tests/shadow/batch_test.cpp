// evaluate_batch (shadow/plan.h) gives every sample the bits evaluate gives it alone, on
// hand-built layers that exercise each batched kernel's own path and its fallback: a Gemm with
// no C whose B is an activation (one sample at a time), a Gemm with alpha, beta and C (the
// kernel's finish step), a shared-weight Gemm and MatMul (one GEMM of the batch), a MatMul of two
// activations, a grouped, strided and padded Conv with bias, MaxPool, BatchNormalization, a
// broadcast Add, AveragePool over the batch, and layers run in their dying input's buffer; in
// every kind of chain. Registered once per instruction-set cap (FPAUDIT_ISA), so the AVX2 and
// plain x86-64 kernels are held to the same bits on an AVX-512 machine.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/cpu_features.h"
#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "graph/model_builder.h"
#include "shadow/audit.h"
#include "shadow/constant_store.h"
#include "shadow/plan.h"

using namespace fpaudit;
using fpaudit::test::ModelBuilder;

namespace {

std::vector<float> ramp(int n, double phase) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<float>(std::sin(0.37 * i + phase) * (1 + i % 3)));
  return v;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Sample b's value of graph input k: distinct per sample and input, a few with exact zeros and
// signed zeros so that Relu/MaxPool and the sign handling see them.
std::vector<double> sample_input(std::size_t n, long b, std::size_t k) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.91 * static_cast<double>(i) + 1.7 * static_cast<double>(b) + 0.3 * static_cast<double>(k)) * 3.0;
  if (n > 3) {
    v[1] = 0.0;
    v[2] = -0.0;
  }
  return v;
}

long elements(const Shape& s) {
  long n = 1;
  for (auto d : s) n *= static_cast<long>(d);
  return n;
}

// Every chain kind: binary16 and bfloat16 storage with narrow and binary32 accumulation, binary32,
// and the exact reference.
void check_batches(const ModelBuilder& mb, const std::vector<Shape>& input_shapes, long samples) {
  Graph g = test::inferred(mb, input_shapes);
  const Plan plan(g);
  for (const char* name : {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "ref"}) {
    CAPTURE(name);
    CAPTURE(cpu::level_name());
    const auto a = std::string(name) == "ref" ? std::unique_ptr<Arithmetic>(new ExactArithmetic)
                                              : make_chain_arithmetic(parse_chain(name));
    ConstantCache constants(ConstantStore::rounded(plan, *a));
    std::vector<std::vector<std::vector<double>>> inputs;
    for (long b = 0; b < samples; ++b) {
      std::vector<std::vector<double>> one;
      for (std::size_t k = 0; k < input_shapes.size(); ++k)
        one.push_back(sample_input(static_cast<std::size_t>(elements(input_shapes[k])), b, k));
      inputs.push_back(one);
    }
    const auto batch = evaluate_batch(plan, *a, constants, inputs);
    REQUIRE(batch.size() == static_cast<std::size_t>(samples));
    for (long b = 0; b < samples; ++b) {
      CAPTURE(b);
      const std::vector<Tensor> alone = evaluate(plan, *a, constants, inputs[static_cast<std::size_t>(b)]);
      REQUIRE(alone.size() == batch[static_cast<std::size_t>(b)].size());
      for (std::size_t o = 0; o < alone.size(); ++o) CHECK(same_bits(alone[o].data, batch[static_cast<std::size_t>(b)][o].data));
    }
  }
}

}  // namespace

TEST_CASE("a Gemm without C whose B is an activation runs one sample at a time, the same bits") {
  ModelBuilder mb;
  mb.input("a", test::kFloat, {3, 5}).input("b", test::kFloat, {5, 4}).output("y", test::kFloat, {3, 4});
  mb.node("Gemm", {"a", "b"}, {"y"}, "gemm");
  check_batches(mb, {{3, 5}, {5, 4}}, 5);
}

TEST_CASE("Gemm with alpha, beta, a broadcast C and transA, and a shared-weight Gemm without C") {
  ModelBuilder mb;
  mb.input("x", test::kFloat, {6, 3}).output("z", test::kFloat, {3, 2});
  mb.initializer(test::float_tensor("w", {6, 4}, ramp(24, 0.2)));
  mb.initializer(test::float_tensor("c", {4}, ramp(4, 1.1)));
  mb.initializer(test::float_tensor("v", {2, 4}, ramp(8, 2.3)));
  auto& g1 = mb.node("Gemm", {"x", "w", "c"}, {"h"}, "scaled");
  test::set_attr(g1, "transA", std::int64_t{1});
  test::set_attr(g1, "alpha", 0.5f);
  test::set_attr(g1, "beta", 3.0f);
  test::set_attr(mb.node("Gemm", {"h", "v"}, {"z"}, "no_c"), "transB", std::int64_t{1});
  check_batches(mb, {{6, 3}}, 7);
}

TEST_CASE("MatMul with a shared weight and MatMul of two activations") {
  ModelBuilder mb;
  mb.input("x", test::kFloat, {2, 3, 8}).output("z", test::kFloat, {2, 3, 3});
  mb.initializer(test::float_tensor("w", {8, 5}, ramp(40, 0.4)));
  mb.node("MatMul", {"x", "w"}, {"h"}, "shared");
  test::set_attr(mb.node("Transpose", {"h"}, {"ht"}, "t"), "perm", std::vector<std::int64_t>{0, 2, 1});
  mb.node("MatMul", {"h", "ht"}, {"z"}, "both");
  check_batches(mb, {{2, 3, 8}}, 5);
}

TEST_CASE("grouped strided padded Conv with bias, BatchNormalization, Relu, MaxPool and a broadcast Add") {
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 4, 9, 9}).output("y", test::kFloat, {1, 6, 3, 3});
  mb.initializer(test::float_tensor("w", {6, 2, 3, 3}, ramp(108, 0.9)));
  mb.initializer(test::float_tensor("bias", {6}, ramp(6, 0.1)));
  mb.initializer(test::float_tensor("scale", {6}, {1.5f, 0.25f, 2.0f, 1.0f, 0.75f, 3.0f}));
  mb.initializer(test::float_tensor("shift", {6}, ramp(6, 1.9)));
  mb.initializer(test::float_tensor("mean", {6}, ramp(6, 2.9)));
  mb.initializer(test::float_tensor("var", {6}, {0.5f, 1.0f, 2.0f, 0.1f, 4.0f, 1.5f}));
  mb.initializer(test::float_tensor("row", {1, 1, 1, 3}, {0.5f, -1.0f, 0.0f}));
  auto& conv = mb.node("Conv", {"x", "w", "bias"}, {"c"}, "conv");
  test::set_attr(conv, "group", std::int64_t{2});
  test::set_attr(conv, "strides", std::vector<std::int64_t>{2, 2});
  test::set_attr(conv, "pads", std::vector<std::int64_t>{1, 0, 1, 2});
  mb.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"n"}, "bn");
  mb.node("Relu", {"n"}, {"r"}, "relu");
  auto& pool = mb.node("MaxPool", {"r"}, {"p"}, "pool");
  test::set_attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
  test::set_attr(pool, "pads", std::vector<std::int64_t>{0, 0, 1, 1});
  test::set_attr(pool, "strides", std::vector<std::int64_t>{2, 2});
  mb.node("Add", {"p", "row"}, {"y"}, "add");
  check_batches(mb, {{1, 4, 9, 9}}, 9);
}

TEST_CASE("1x1 Conv of two images per sample, then Div by a row with a zero divisor") {
  // A 1×1 kernel reads its input directly (no im2col); two images per sample give each
  // sample's output two blocks of the batch's GEMM; the Div runs in vector lanes, the zero
  // divisor's lanes through the scalar path.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {2, 3, 2, 2}).output("y", test::kFloat, {2, 16, 2, 2});
  mb.initializer(test::float_tensor("w", {16, 3, 1, 1}, ramp(48, 0.7)));
  mb.initializer(test::float_tensor("bias", {16}, ramp(16, 0.2)));
  std::vector<float> divisor = ramp(16, 1.3);
  divisor[5] = 0.0f;
  mb.initializer(test::float_tensor("d", {1, 16, 1, 1}, divisor));
  mb.node("Conv", {"x", "w", "bias"}, {"c"}, "conv");
  mb.node("Div", {"c", "d"}, {"y"}, "div");
  check_batches(mb, {{2, 3, 2, 2}}, 9);
}

TEST_CASE("a Conv with fewer output positions than 8 over a batch of 5: the transposed GEMM") {
  // 5 samples × 1 position: the chain's GEMM runs transposed (N < 8 ≤ M) and writes each
  // sample's column into its own tensor.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3, 3, 3}).output("y", test::kFloat, {1, 16, 1, 1});
  mb.initializer(test::float_tensor("w", {16, 3, 3, 3}, ramp(432, 0.3)));
  mb.node("Conv", {"x", "w"}, {"y"}, "conv");
  check_batches(mb, {{1, 3, 3, 3}}, 5);
}

TEST_CASE("Gemm and MatMul over a batch split at the 32 MB scratch cap give the same bits") {
  // 2048 rows of 1024 per sample against a shared 1024 × 8 weight, in a MatMul and in a Gemm:
  // 2048·(1024 + 8) scratch values per sample, so a GEMM takes one sample (kMaxScratchValues =
  // 2^22) and 3 samples run as 3 GEMMs each; the last Gemm's scratch is small (one GEMM).
  ModelBuilder mb;
  mb.input("x", test::kFloat, {2048, 1024}).output("z", test::kFloat, {2048, 8});
  mb.initializer(test::float_tensor("w", {1024, 8}, ramp(8192, 0.6)));
  mb.initializer(test::float_tensor("v", {8, 8}, ramp(64, 1.6)));
  mb.node("MatMul", {"x", "w"}, {"h"}, "matmul");
  mb.node("Gemm", {"x", "w"}, {"g"}, "gemm_split");
  mb.node("Add", {"h", "g"}, {"s"}, "add");
  mb.node("Gemm", {"s", "v"}, {"z"}, "gemm");
  check_batches(mb, {{2048, 1024}}, 3);
}

TEST_CASE("layers run in their dying input's buffer only where nothing reads it later; AveragePool over the batch") {
  // Conv → Relu → Sigmoid → AveragePool (uniform 2×2 windows: one product for the batch) →
  // BatchNormalization → Add of the pooled value and the normalised one → Flatten. The Relu,
  // Sigmoid and Flatten take over their input's buffer (elementwise_in_place), the
  // BatchNormalization may not: its input is read again by the Add. Against samples evaluated
  // alone, which never hand over.
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 2, 6, 6}).output("y", test::kFloat, {1, 27});
  mb.initializer(test::float_tensor("w", {3, 2, 3, 3}, ramp(54, 0.5)));
  mb.initializer(test::float_tensor("scale", {3}, {1.5f, 0.25f, 2.0f}));
  mb.initializer(test::float_tensor("shift", {3}, ramp(3, 1.9)));
  mb.initializer(test::float_tensor("mean", {3}, ramp(3, 2.9)));
  mb.initializer(test::float_tensor("var", {3}, {0.5f, 1.0f, 2.0f}));
  auto& conv = mb.node("Conv", {"x", "w"}, {"c"}, "conv");
  test::set_attr(conv, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  mb.node("Relu", {"c"}, {"r"}, "relu");
  mb.node("Sigmoid", {"r"}, {"s"}, "sigmoid");
  auto& pool = mb.node("AveragePool", {"s"}, {"p"}, "pool");
  test::set_attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
  test::set_attr(pool, "strides", std::vector<std::int64_t>{2, 2});
  mb.node("BatchNormalization", {"p", "scale", "shift", "mean", "var"}, {"n"}, "bn");
  mb.node("Add", {"p", "n"}, {"a"}, "add");
  mb.node("Flatten", {"a"}, {"y"}, "flatten");
  check_batches(mb, {{1, 2, 6, 6}}, 6);

  Graph g = test::inferred(mb, {{1, 2, 6, 6}});
  const Plan plan(g);
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const auto mixed = make_chain_arithmetic(parse_chain("fp16+fp32:Relu"));
  std::vector<std::string> in_place;
  for (std::size_t l = 0; l < plan.layers().size(); ++l) {
    if (runs_in_place(plan, *fp16, l)) in_place.push_back(plan.layers()[l].node->name);
    CHECK_FALSE(runs_in_place(plan, *mixed, l));  // a mixed chain's boundary rounds into scratch
  }
  CHECK(in_place == std::vector<std::string>{"relu", "sigmoid", "flatten"});
}

TEST_CASE("BatchNormalization whose scale is a runtime input: each sample its own statistics") {
  // The batched kernel folds scale and shift once for the batch only where every sample reads
  // the same statistics; here each sample gives its own scale (sample_input differs per sample).
  ModelBuilder mb;
  mb.input("x", test::kFloat, {1, 3, 2, 2}).input("scale", test::kFloat, {3}).output("y", test::kFloat, {1, 3, 2, 2});
  mb.initializer(test::float_tensor("shift", {3}, ramp(3, 1.9)));
  mb.initializer(test::float_tensor("mean", {3}, ramp(3, 2.9)));
  mb.initializer(test::float_tensor("var", {3}, {0.5f, 1.0f, 2.0f}));
  mb.node("BatchNormalization", {"x", "scale", "shift", "mean", "var"}, {"y"}, "bn");
  check_batches(mb, {{1, 3, 2, 2}, {3}}, 4);
}
