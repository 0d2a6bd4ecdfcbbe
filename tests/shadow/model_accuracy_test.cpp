// The shipped models evaluated by fpaudit's fp32 chain agree with PyTorch: the same number of
// correct predictions on the 2,000-image subset as data/models.json records for both, and
// logits within the fp32 rounding of PyTorch's on the first 8 images.
#include <cmath>
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "graph/loader.h"
#include "shadow/audit.h"
#include "shadow/plan.h"

using namespace fpaudit;

namespace {
const std::string kData = FPAUDIT_DATA_DIR;

struct Evaluated {
  long correct = 0;
  std::vector<std::vector<double>> logits;  // of the first 8 samples
};

Evaluated evaluate_fp32(const std::string& model) {
  Graph g = load_onnx(kData + "/" + model + ".onnx");
  const Constant x = read_npy(kData + "/test_images.npy");
  const Constant y = read_npy(kData + "/test_labels.npy");
  infer_shapes(g, std::vector<Shape>{{1, 1, 28, 28}});
  const Plan plan(g);
  const auto fp32 = make_chain_arithmetic(parse_chain("fp32"));
  const std::vector<Tensor> constants = round_constants(plan, *fp32);
  Evaluated e;
  for (long i = 0; i < x.shape[0]; ++i) {
    const std::vector<Tensor> out = evaluate(plan, *fp32, constants, {sample_values(x, i, 784)});
    const auto& z = out[0].data;
    e.correct += std::max_element(z.begin(), z.end()) - z.begin() == y.ints[i];
    if (i < 8) e.logits.push_back(z);
  }
  return e;
}
}  // namespace

TEST_CASE("fp32 accuracy and logits agree with PyTorch for mlp, cnn and vit") {
  std::ifstream in(kData + "/models.json");
  const nlohmann::json models = nlohmann::json::parse(in)["models"];
  for (const char* name : {"mlp", "cnn", "vit"}) {
    INFO(name);
    const Evaluated e = evaluate_fp32(name);
    const double pytorch = models[name]["accuracy_fp32_pytorch"]["test_subset_2000"];
    const double recorded = models[name]["accuracy_fp32_fpaudit"]["test_subset_2000"];
    CHECK(e.correct == std::lround(pytorch * 2000));
    CHECK(e.correct == std::lround(recorded * 2000));
    // PyTorch's fp32 logits differ from the fp32 chain's only by summation order: well within
    // 1e-4 absolute for logits of magnitude below 100.
    const Constant ref = read_npy(kData + "/" + std::string(name) + "_logits8.npy");
    double worst = 0;
    for (int s = 0; s < 8; ++s)
      for (int c = 0; c < 10; ++c) worst = std::fmax(worst, std::fabs(e.logits[s][c] - ref.values[s * 10 + c]));
    CHECK(worst < 1e-4);
  }
}
