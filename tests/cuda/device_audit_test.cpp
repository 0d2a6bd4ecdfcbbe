// On a GPU: `fpaudit audit --device cuda` gives the same audit as the host, sample by sample
// and chain by chain, because the device chains' GEMMs compute the host's bits. Without a
// usable CUDA device it prints why and exits 77, which ctest reports as skipped.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "cuda/device.h"
#include "cuda/device_chain.h"
#include "cuda/registry.h"
#include "graph/loader.h"
#include "shadow/audit.h"

using namespace fpaudit;

namespace {
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }
}  // namespace

int main() {
  const cuda::DeviceStatus& d = cuda::device_status();
  if (!d.available) {
    std::printf("SKIP: %s\n", d.reason.c_str());
    return 77;
  }
  // The build's data folder, or FPAUDIT_DATA_DIR when the binary runs from another checkout
  // (scripts/gpu-check --from carries binaries built elsewhere to the GPU machine).
  const char* data_env = std::getenv("FPAUDIT_DATA_DIR");
  const std::filesystem::path data = data_env && *data_env ? data_env : FPAUDIT_DATA_DIR;
  int failures = 0, compared = 0;
  for (const char* model : {"mlp.onnx", "cnn.onnx", "vit.onnx"}) {
    const Constant x = read_npy((data / "test_images.npy").string());
    Graph graph;  // outlives the plan built on it
    std::unique_ptr<Plan> plan_holder;
    try {  // a model whose operators the host cannot run yet is reported, not compared
      graph = load_onnx((data / model).string());
      Shape sample = x.shape;
      sample[0] = 1;
      infer_shapes(graph, std::vector<Shape>{sample});
      plan_holder = std::make_unique<Plan>(graph);
    } catch (const std::exception& e) {
      std::printf("%s: not compared: %s\n", model, e.what());
      continue;
    }
    const Plan& plan = *plan_holder;
    ++compared;
    AuditOptions host;
    for (const char* c : {"fp16", "fp16-acc32", "fp16@two-lane", "fp16@pairwise-8"}) host.chains.push_back(parse_chain(c));
    // Tensor-core chains run on the device only where the model is the hardware's bits.
    if (const cuda::TensorCoreModel* m = cuda::tensor_core_model(d.sm); m && m->bit_exact) {
      host.chains.push_back(parse_chain("fp16-acc32@" + schedule_name(m->schedule)));
      host.chains.push_back(parse_chain("fp16@" + schedule_name(m->schedule)));
    }
    host.max_samples = 24;
    AuditOptions device = host;
    device.make_chain = [](const ChainSpec& s) { return cuda::make_device_chain_arithmetic(s); };
    const AuditResult a = run_audit(plan, x, nullptr, host), b = run_audit(plan, x, nullptr, device);
    if (a.records.empty() || a.records.size() != b.records.size()) {
      std::printf("FAIL %s: %zu host records, %zu device records\n", model, a.records.size(), b.records.size());
      ++failures;
      continue;
    }
    for (std::size_t i = 0; i < a.records.size(); ++i)
      for (std::size_t c = 0; c < host.chains.size(); ++c) {
        const ChainVerdict& u = a.records[i].chains[c];
        const ChainVerdict& v = b.records[i].chains[c];
        if (u.top1 != v.top1 || !same(u.delta_ref, v.delta_ref)) {
          std::printf("FAIL %s sample %zu chain %s: host top1 %d δ %.17g, device top1 %d δ %.17g\n", model, i,
                      host.chains[c].name.c_str(), u.top1, u.delta_ref, v.top1, v.delta_ref);
          ++failures;
        }
      }
    std::printf("%s: %zu samples × %zu chains compared\n", model, a.records.size(), host.chains.size());
  }
  if (compared == 0) std::printf("FAIL: no model could be compared\n");
  return failures == 0 && compared > 0 ? 0 : 1;
}
