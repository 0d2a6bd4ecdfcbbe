// The constants held in their storage formats' own width (shadow/constant_store.h): every
// expansion gives the bits round_constants gives and the rounding errors a binary64 copy held,
// a store holds binary32 copies only where rounding changed a weight, and a thread's cache never
// holds more than two layers' worth.
#include <bit>
#include <cmath>
#include <cstring>

#include <doctest/doctest.h>

#include "core/reference_arithmetic.h"
#include "graph/loader.h"
#include "shadow/audit.h"
#include "shadow/constant_store.h"

using namespace fpaudit;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

long float_parameters(const Plan& plan) {
  long n = 0;
  for (const Slot& s : plan.slots())
    if (s.constant && !s.constant->values.empty()) n += static_cast<long>(s.constant->values.size());
  return n;
}

}  // namespace

TEST_CASE("constant stores expand to the bits of binary64 copies, held in the narrowest exact type") {
  for (const char* model : {"cnn", "vit"}) {
    Graph g = load_onnx(std::string(FPAUDIT_DATA_DIR) + "/" + model + ".onnx");
    infer_shapes(g, std::vector<Shape>{{1, 1, 28, 28}});
    const Plan plan(g);
    const ExactArithmetic exact;
    const std::vector<Tensor> exact_copy = round_constants(plan, exact);
    const auto ref = ConstantStore::rounded(plan, exact);
    CHECK(ref->held_bytes() == 0);  // the reference reads the graph's own values
    CHECK(ConstantStore::zeros(plan)->held_bytes() == 0);
    for (const char* name : {"fp32", "fp16", "bf16-acc32", "fp8-e4m3-acc32", "fp16+fp32:Softmax"}) {
      CAPTURE(model);
      CAPTURE(name);
      if (std::string(name).find("Softmax") != std::string::npos && std::string(model) != "vit") continue;
      const auto a = make_chain_arithmetic(parse_chain(name));
      const auto stored = store_constants(plan, *a, ref);
      const std::vector<Tensor> values = round_constants(plan, *a);
      std::vector<double> v, e;
      long changed = 0;
      for (std::size_t i = 0; i < plan.slots().size(); ++i) {
        if (!plan.slots()[i].constant) continue;
        stored->values->expand(static_cast<int>(i), v);
        stored->err->expand(static_cast<int>(i), e);
        CHECK(same_bits(v, values[i].data));
        std::vector<double> err(v.size());
        for (std::size_t k = 0; k < v.size(); ++k) err[k] = std::fabs(values[i].data[k] - exact_copy[i].data[k]);
        CHECK(same_bits(e, err));
        if (!same_bits(v, exact_copy[i].data)) changed += static_cast<long>(v.size());
      }
      // Binary32 copies of the tensors rounding changed, nothing else; the errors are computed.
      CHECK(stored->values->held_bytes() == static_cast<std::size_t>(changed) * sizeof(float));
      CHECK(stored->err->held_bytes() == 0);
      if (std::string(name) == "fp32") CHECK(changed == 0);  // fp32 weights: the graph's own
      if (std::string(name) == "fp16") CHECK(changed > float_parameters(plan) / 2);
    }
  }
}

TEST_CASE("a thread's cache of a store holds at most two layers of constants") {
  Graph g = load_onnx(std::string(FPAUDIT_DATA_DIR) + "/vit.onnx");
  infer_shapes(g, std::vector<Shape>{{1, 1, 28, 28}});
  const Plan plan(g);
  const auto fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const auto store = ConstantStore::rounded(plan, *fp16);
  const std::vector<Tensor> values = round_constants(plan, *fp16);
  ConstantCache cache(store);
  std::size_t total = 0;
  for (const Slot& s : plan.slots())
    if (s.constant) total += static_cast<std::size_t>(element_count(s.constant->shape)) * sizeof(double);
  REQUIRE(2 * store->layer_bytes() < total);  // eviction has something to do on this model
  for (int pass = 0; pass < 2; ++pass)
    for (const PlannedLayer& layer : plan.layers()) {
      std::vector<const Tensor*> read;
      for (int s : layer.inputs)
        if (s >= 0 && plan.slots()[static_cast<std::size_t>(s)].constant) read.push_back(&cache.at(s));
      CHECK(cache.bytes() <= 2 * store->layer_bytes());
      // Everything the layer reads is still there, with the rounded bits, after it read the rest.
      std::size_t k = 0;
      for (int s : layer.inputs)
        if (s >= 0 && plan.slots()[static_cast<std::size_t>(s)].constant) {
          CHECK(read[k] == &cache.at(s));
          CHECK(same_bits(read[k]->data, values[static_cast<std::size_t>(s)].data));
          CHECK(read[k]->packs != nullptr);
          ++k;
        }
    }
}
