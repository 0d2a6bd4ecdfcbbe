// Random and adversarial tests of the Softmax, LogSoftmax, LayerNormalization and
// BatchNormalization rules (theory/softmax.md, theory/normalization.md): rows of many widths and
// scales, near-constant rows (σ → 0: the 1/σ amplification), LayerNorm inputs whose binary16
// Σd² overflows, BatchNorm channels with tiny variances, through run_audit in every chain family.
#include <cmath>
#include <random>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "shadow/audit.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

const char* kChains[] = {"fp32", "fp16", "fp16-acc32", "bf16", "bf16-acc32", "fp8-e4m3-acc32", "fp16@pairwise-8"};

enum class Rows { Normal, NearConstant, Peaked };

/// samples × [1, rows, width] inputs: N(0, scale²); or c + scale·10^-3·N(0,1) (near-constant);
/// or one large entry per row (a confident softmax).
Constant inputs(long samples, long rows, long width, double scale, Rows kind, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Constant c;
  c.dtype = DType::Float32;
  c.shape = {samples, rows, width};
  c.values.resize(static_cast<std::size_t>(samples * rows * width));
  for (long r = 0; r < samples * rows; ++r) {
    const double offset = kind == Rows::NearConstant ? scale * normal(rng) : 0.0;
    for (long j = 0; j < width; ++j) {
      double v = kind == Rows::NearConstant ? offset + scale * 1e-3 * normal(rng) : scale * normal(rng);
      if (kind == Rows::Peaked && j == static_cast<long>(rng() % static_cast<std::uint64_t>(width))) v += 8 * scale;
      c.values[static_cast<std::size_t>(r * width + j)] = static_cast<float>(v);
    }
  }
  return c;
}

struct Tally {
  long checked = 0, violations = 0, exceeded = 0;
  double worst = 0;
};

Tally audit(ModelBuilder& b, const Constant& x) {
  Graph g = b.parse();
  infer_shapes(g, std::vector<Shape>{{1, x.shape[1], x.shape[2]}});
  const Plan plan(g);
  AuditOptions o;
  for (const char* c : kChains) o.chains.push_back(parse_chain(c));
  o.threads = 1;
  const AuditResult r = run_audit(plan, x, nullptr, o);
  Tally t;
  for (const auto& layer : r.stats)
    for (const LayerChainStats& s : layer)
      for (const BoundStats* b2 : {&s.propagated_bound, &s.local_bound}) {
        t.checked += static_cast<long>(b2->checked);
        t.violations += static_cast<long>(b2->violations);
        t.exceeded += static_cast<long>(b2->prob_exceeded);
        t.worst = std::fmax(t.worst, b2->ratio.max);
      }
  for (const ChainClassification& k : r.classification) CHECK(k.certificate_violations == 0);
  return t;
}

void report(const std::string& what, const Tally& t) {
  fmt::print("  {:<46} {:>7} checked, {} violations, max observed/bound {:.3g}\n", what, t.checked, t.violations, t.worst);
  CHECK_MESSAGE(t.violations == 0, what);
}

}  // namespace

TEST_CASE("Softmax and LogSoftmax rows of every width and scale") {
  std::mt19937_64 rng(11);
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (long width : {1L, 2L, 10L, 100L, 1000L})
      for (double scale : {0.1, 3.0, 30.0})
        for (Rows kind : {Rows::Normal, Rows::Peaked}) {
          ModelBuilder b(13);
          b.input("x", kFloat, {1, 2, width});
          b.node(op, {"x"}, {"y"});
          b.output("y");
          report(fmt::format("{} width {} scale {} {}", op, width, scale, kind == Rows::Peaked ? "peaked" : "normal"),
                 audit(b, inputs(width > 100 ? 3 : 8, 2, width, scale, kind, rng)));
        }
}

TEST_CASE("LayerNormalization: widths, scales, near-constant rows, binary16 overflow of Σd²") {
  std::mt19937_64 rng(12);
  for (long width : {4L, 64L, 768L})
    for (double scale : {0.01, 1.0, 50.0})
      for (Rows kind : {Rows::Normal, Rows::NearConstant}) {
        ModelBuilder b(17);
        b.input("x", kFloat, {1, 2, width});
        std::vector<float> g(static_cast<std::size_t>(width)), bt(g.size());
        for (std::size_t j = 0; j < g.size(); ++j) {
          g[j] = static_cast<float>(0.5 + 0.01 * static_cast<double>(j % 97));
          bt[j] = static_cast<float>(0.1 * static_cast<double>(j % 7) - 0.3);
        }
        b.initializer(float_tensor("g", {width}, g));
        b.initializer(float_tensor("bt", {width}, bt));
        b.node("LayerNormalization", {"x", "g", "bt"}, {"y"});
        b.output("y");
        report(fmt::format("LayerNorm width {} scale {} {}", width, scale, kind == Rows::NearConstant ? "near-constant" : "normal"),
               audit(b, inputs(width > 100 ? 3 : 8, 2, width, scale, kind, rng)));
      }
}

TEST_CASE("BatchNormalization: tiny and huge variances, large shifts") {
  std::mt19937_64 rng(13);
  for (double scale : {0.01, 1.0, 100.0}) {
    ModelBuilder b(13);
    b.input("x", kFloat, {1, 4, 9});
    b.initializer(float_tensor("g", {4}, {1.0f, -2.5f, 0.001f, 300.0f}));
    b.initializer(float_tensor("bt", {4}, {0.0f, 7.0f, -0.25f, 1e3f}));
    b.initializer(float_tensor("mu", {4}, {0.1f, -30.0f, 2.0f, 0.0f}));
    b.initializer(float_tensor("var", {4}, {1e-6f, 9.0f, 1e4f, 0.5f}));
    b.node("BatchNormalization", {"x", "g", "bt", "mu", "var"}, {"y"});
    b.output("y");
    report(fmt::format("BatchNorm scale {}", scale), audit(b, inputs(16, 4, 9, scale, Rows::Normal, rng)));
  }
}
