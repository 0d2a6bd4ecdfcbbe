// Batches for the training tests: the first samples of the shipped test images, or of a zoo
// model's input with labels made up deterministically, and the plan.
#pragma once

#include <filesystem>
#include <string>

#include "graph/loader.h"
#include "graph/samples.h"
#include "train_support.h"

namespace fpaudit::test {

struct Batch {
  std::unique_ptr<Planned> planned;
  Constant x, y;
};

inline Batch shipped_batch(const std::string& model, long n) {
  const std::filesystem::path data = FPAUDIT_DATA_DIR;
  Batch b;
  b.x = first_samples(read_npy(data / "test_images.npy"), n);
  b.y = first_samples(read_npy(data / "test_labels.npy"), n);
  b.planned = plan_for(load_onnx(data / model), b.x.shape);
  return b;
}

inline Batch zoo_batch(const std::string& model, long n) {
  const std::filesystem::path zoo = std::filesystem::path(FPAUDIT_DATA_DIR) / "zoo";
  Batch b;
  b.x = first_samples(read_npy(zoo / (model + "-input.npy")), n);
  b.planned = plan_for(load_onnx(zoo / (model + ".onnx")), b.x.shape);
  const Plan& plan = *b.planned->plan;
  const Shape& out = plan.slots()[static_cast<std::size_t>(plan.output_slots()[0])].shape;
  // One label per sample, or per sample and position for outputs [N, C, P...] (segmentation).
  std::int64_t positions = 1;
  for (std::size_t d = 2; d < out.size(); ++d) positions *= out[d];
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n * positions; ++i) labels.push_back((3 * i + i / 5 + 1) % out[1]);
  b.y = label_array(labels);
  return b;
}

}  // namespace fpaudit::test
