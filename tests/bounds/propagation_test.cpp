// theory/propagation.md: the per-sample elementwise propagation the engine does against the
// classical norm-product bound e_K ≤ Σ_k (Π_{j>k} ‖W_j‖_∞) ℓ_k on the shipped MLP, per sample:
// the first is never larger (it replaces max-norms by the actual vectors), and both bound the
// observed drift δ.
#include <cmath>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "graph/loader.h"
#include "core/chain_arithmetic.h"
#include "core/reference_arithmetic.h"
#include "shadow/apriori.h"
#include "shadow/audit.h"

using namespace fpaudit;

namespace {

double max_of(const Tensor& t) {
  double m = 0;
  for (double v : t.data) m = std::fmax(m, v);
  return m;
}

}  // namespace

TEST_CASE("per-sample propagation is never looser than the norm-product bound (shipped MLP)") {
  Graph g = load_onnx(std::string(FPAUDIT_DATA_DIR) + "/mlp.onnx");
  const Constant images = read_npy(std::string(FPAUDIT_DATA_DIR) + "/test_images.npy");
  infer_shapes(g, std::vector<Shape>{{1, 1, 28, 28}});
  const Plan plan(g);
  const ExactArithmetic ref;
  const auto ref_store = ConstantStore::rounded(plan, ref);
  const std::vector<Tensor> ref_constants = expand_all(*ref_store);
  fmt::print("chain, sample: observed δ, per-sample bound, norm-product bound (deterministic)\n");
  for (const char* name : {"fp32", "fp16-acc32", "fp16", "bf16-acc32"}) {
    const auto chain = make_apriori_chain(plan, parse_chain(name), ref_store);
    const std::vector<Tensor> values = expand_all(*chain->stored->values), errors = expand_all(*chain->stored->err);
    const bounds::ArithmeticModel& m = chain->model;
    double worst_ratio = 0;
    for (long s = 0; s < 8; ++s) {
      const std::vector<double> x = sample_values(images, s, 784);
      Activations r(plan, ref_constants), c(plan, values), err(plan, errors), zero(plan, errors), local(plan, errors);
      std::vector<double> xc = x, e(x.size());
      chain->arithmetic->round_storage(xc);
      for (std::size_t i = 0; i < x.size(); ++i) e[i] = std::fabs(xc[i] - x[i]);
      r.set_input(0, x);
      c.set_input(0, xc);
      err.set_input(0, e);
      zero.set_input(0, std::vector<double>(x.size(), 0.0));
      // e_0: the input's rounding; then per layer e_k ≤ ‖W_k‖ e_{k-1} + ℓ_k (ReLU and Flatten: 1).
      double norm_product = max_of(err.value(plan.input_slots()[0]));
      for (std::size_t l = 0; l < plan.layers().size(); ++l) {
        const PlannedLayer& layer = plan.layers()[l];
        r.run_layer(ref, l, r);
        c.run_layer(*chain->arithmetic, l, c);
        bound_layer(layer, m, 5.0, c, c, err, err, err, err);
        if (layer.node->op_type == "Gemm") {
          // ℓ_k: the rule at the chain's values with exact activations (weights' rounding kept).
          for (int slot : layer.inputs)
            if (slot >= 0 && !plan.slots()[slot].constant) zero.mutable_value(slot) = Tensor(c.value(slot).shape);
          bound_layer(layer, m, 5.0, c, c, zero, zero, local, local);
          // ‖W‖_∞ with the chain's weights widened by their rounding: the largest row sum of |ŵ| + e_w.
          const int w_slot = layer.inputs[1];
          const Tensor& w = c.value(w_slot);
          const Tensor& ew = err.value(w_slot);
          const long rows = w.shape[0], cols = w.shape[1];  // Gemm with transB: W is [out, in]
          double norm = 0;
          for (long i = 0; i < rows; ++i) {
            double row = 0;
            for (long k = 0; k < cols; ++k) row += std::fabs(w.data[i * cols + k]) + ew.data[i * cols + k];
            norm = std::fmax(norm, row);
          }
          norm_product = norm * norm_product + max_of(local.value(layer.outputs[0]));
        }
      }
      const int out = plan.output_slots()[0];
      double delta = 0;
      for (long j = 0; j < 10; ++j) delta = std::fmax(delta, std::fabs(c.value(out).data[j] - r.value(out).data[j]));
      const double per_sample = max_of(err.value(out));
      if (s < 2) fmt::print("  {:<11} {}: {:.3g}  {:.3g}  {:.3g}\n", name, s, delta, per_sample, norm_product);
      CHECK(delta <= per_sample);
      CHECK(per_sample <= norm_product * (1 + 1e-12));
      worst_ratio = std::fmax(worst_ratio, per_sample / norm_product);
    }
    fmt::print("  {:<11} largest per-sample / norm-product over 8 samples: {:.3g}\n", name, worst_ratio);
  }
}
