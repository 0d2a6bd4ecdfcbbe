// infer_shapes on the window operators: Conv, ConvTranspose, MaxPool, AveragePool and
// GlobalAveragePool, with pads, strides, dilations, groups, auto_pad and ceil_mode. The
// expected sizes are worked out by hand in the comments.
#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"

using namespace fpaudit;
using namespace fpaudit::test;

namespace {

/// y = op(x[, W]) with x of rank 4; W given by its dims when the operator has weights.
struct Window {
  ModelBuilder m{13};
  onnx::NodeProto* node;
  Window(const std::string& op, std::vector<std::int64_t> w_dims = {}) {
    m.input("x", kFloat, {-1, -1, -1, -1}).output("y");
    if (w_dims.empty()) {
      node = &m.node(op, {"x"}, {"y"}, "n");
    } else {
      std::int64_t count = 1;
      for (std::int64_t d : w_dims) count *= d;
      m.initializer(float_tensor("W", w_dims, std::vector<float>(static_cast<std::size_t>(count), 0.5f)));
      node = &m.node(op, {"x", "W"}, {"y"}, "n");
    }
  }
  Window& ints(const std::string& name, std::vector<std::int64_t> v) {
    set_attr(*node, name, v);
    return *this;
  }
  Window& text(const std::string& name, const std::string& v) {
    set_attr(*node, name, v);
    return *this;
  }
  Window& integer(const std::string& name, std::int64_t v) {
    set_attr(*node, name, v);
    return *this;
  }
  Shape infer(const Shape& x) const { return shape_of(inferred(m, {x}), "y"); }
  std::string error(const Shape& x) const { return error_of([&] { (void)inferred(m, {x}); }); }
};

}  // namespace

TEST_CASE("Conv: pads, strides, dilations, group") {
  // 28: (28 + 0 - 5) / 1 + 1 = 24
  CHECK(Window("Conv", {6, 1, 5, 5}).infer({1, 1, 28, 28}) == Shape{1, 6, 24, 24});
  // (32 + 1 + 1 - 3) / 2 + 1 = 16 ; (31 + 2 - 3) / 2 + 1 = 16
  CHECK(Window("Conv", {8, 3, 3, 3}).ints("pads", {1, 1, 1, 1}).ints("strides", {2, 2}).infer({2, 3, 32, 31}) ==
        Shape{2, 8, 16, 16});
  // dilation 2 makes a 3-tap kernel span 5: (10 - 5) / 1 + 1 = 6 ; asymmetric pads (0, 3): 10 + 3 - 5 + 1 = 9
  CHECK(Window("Conv", {4, 2, 3, 3}).ints("dilations", {2, 2}).ints("pads", {0, 0, 0, 3}).infer({1, 2, 10, 10}) ==
        Shape{1, 4, 6, 9});
  // depthwise: group 4, W [4, 1, 3, 3]
  CHECK(Window("Conv", {4, 1, 3, 3}).integer("group", 4).infer({1, 4, 7, 7}) == Shape{1, 4, 5, 5});
  CHECK(Window("Conv", {4, 1, 3, 3}).integer("group", 2).error({1, 4, 7, 7}) ==
        "model.onnx: node 'n' (Conv): X [1, 4, 7, 7] and W [4, 1, 3, 3] do not match with group = 2 (need C = W[1] * "
        "group, W[0] divisible by group)");
  CHECK(Window("Conv", {1, 1, 5, 5}).error({1, 1, 3, 8}) ==
        "model.onnx: node 'n' (Conv): the window (effective size 5) is larger than the padded input (3) along spatial "
        "axis 0");
  CHECK(Window("Conv", {1, 1, 3, 3}).ints("strides", {0, 1}).error({1, 1, 8, 8}) ==
        "model.onnx: node 'n' (Conv): 'strides' value 0 is outside [1, 16777216]");
}

TEST_CASE("Conv auto_pad: SAME_UPPER and SAME_LOWER give ceil(in / stride), VALID no padding") {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    CHECK(Window("Conv", {2, 1, 3, 3}).text("auto_pad", mode).ints("strides", {2, 2}).infer({1, 1, 7, 8}) ==
          Shape{1, 2, 4, 4});
  }
  // VALID: ceil((7 - 3 + 1) / 2) = 3 ; ceil((8 - 3 + 1) / 2) = 3
  CHECK(Window("Conv", {2, 1, 3, 3}).text("auto_pad", "VALID").ints("strides", {2, 2}).ints("pads", {5, 5, 5, 5})
            .infer({1, 1, 7, 8}) == Shape{1, 2, 3, 3});
  CHECK(Window("Conv", {2, 1, 3, 3}).text("auto_pad", "SAME").error({1, 1, 7, 8}) ==
        "model.onnx: node 'n' (Conv): auto_pad 'SAME' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
}

TEST_CASE("ConvTranspose: stride·(in-1) + output_padding + kernel - pads, output_shape, SAME") {
  // W [C=3, M/group=2, 3, 3]: 2 × (5 - 1) + 0 + 3 - 0 = 11
  CHECK(Window("ConvTranspose", {3, 2, 3, 3}).ints("strides", {2, 2}).infer({1, 3, 5, 5}) == Shape{1, 2, 11, 11});
  // with pads (1, 1) and output_padding 1: 2 × 4 + 1 + 3 - 2 = 10
  CHECK(Window("ConvTranspose", {3, 2, 3, 3}).ints("strides", {2, 2}).ints("pads", {1, 1, 1, 1})
            .ints("output_padding", {1, 1}).infer({1, 3, 5, 5}) == Shape{1, 2, 10, 10});
  CHECK(Window("ConvTranspose", {3, 2, 3, 3}).ints("output_shape", {12, 9}).infer({1, 3, 5, 5}) == Shape{1, 2, 12, 9});
  CHECK(Window("ConvTranspose", {3, 2, 3, 3}).text("auto_pad", "SAME_UPPER").ints("strides", {2, 3}).infer({1, 3, 5, 5}) ==
        Shape{1, 2, 10, 15});
  CHECK(Window("ConvTranspose", {3, 2, 3, 3}).integer("group", 3).infer({1, 3, 4, 4}) == Shape{1, 6, 6, 6});
}

TEST_CASE("pools: floor and ceil_mode (a last window must start inside the input), dilations, SAME") {
  // (5 - 2) / 2 + 1 = 2 windows; ceil: ceil(3 / 2) + 1 = 3, the third starts at 4 < 5
  CHECK(Window("MaxPool").ints("kernel_shape", {2, 2}).ints("strides", {2, 2}).infer({1, 1, 5, 5}) == Shape{1, 1, 2, 2});
  CHECK(Window("MaxPool").ints("kernel_shape", {2, 2}).ints("strides", {2, 2}).integer("ceil_mode", 1).infer({1, 1, 5, 5}) ==
        Shape{1, 1, 3, 3});
  // in 4, pads (1, 1), kernel 2, stride 2: ceil((6 - 2) / 2) + 1 = 3; the third window starts at
  // padded position 4, input position 3, inside the input ((3 - 1) × 2 = 4 < 4 + 1): it stays
  CHECK(Window("AveragePool").ints("kernel_shape", {2, 2}).ints("strides", {2, 2}).ints("pads", {1, 1, 1, 1})
            .integer("ceil_mode", 1).infer({1, 1, 4, 4}) == Shape{1, 1, 3, 3});
  // in 5, pads (0, 1), kernel 2, stride 3: ceil((6 - 2) / 3) + 1 = 3, but the third window would
  // start at 6 ≥ 5 + 0, entirely in the padding: dropped → 2
  CHECK(Window("MaxPool").ints("kernel_shape", {2, 2}).ints("strides", {3, 3}).ints("pads", {0, 0, 1, 1})
            .integer("ceil_mode", 1).infer({1, 1, 5, 5}) == Shape{1, 1, 2, 2});
  // dilation 2 on a 3-tap window spans 5: (9 - 5) / 1 + 1 = 5
  CHECK(Window("MaxPool").ints("kernel_shape", {3, 3}).ints("dilations", {2, 2}).infer({1, 2, 9, 9}) == Shape{1, 2, 5, 5});
  CHECK(Window("AveragePool").ints("kernel_shape", {3, 3}).ints("strides", {2, 2}).text("auto_pad", "SAME_LOWER")
            .infer({1, 2, 9, 8}) == Shape{1, 2, 5, 4});
  CHECK(Window("MaxPool").error({1, 1, 4, 4}) == "model.onnx: node 'n' (MaxPool): attribute 'kernel_shape' is missing");
  CHECK(Window("GlobalAveragePool").infer({2, 5, 7, 3}) == Shape{2, 5, 1, 1});
}

TEST_CASE("MaxPool's Indices output is refused when something reads it") {
  ModelBuilder m(13);
  m.input("x", kFloat, {1, 1, 4, 4}).output("y").output("idx");
  set_attr(m.node("MaxPool", {"x"}, {"y", "idx"}, "pool"), "kernel_shape", std::vector<std::int64_t>{2, 2});
  CHECK(error_of([&] { (void)inferred(m, {{1, 1, 4, 4}}); }) ==
        "model.onnx: node 'pool' (MaxPool): output 'idx' (int64) would be computed from run-time data (input 'x'), "
        "but fpaudit evaluates only floating-point and boolean tensors at run time");
}

TEST_CASE("BatchNormalization: Y has X's shape, parameters must be [C], training outputs are refused") {
  ModelBuilder m(13);
  m.input("x", kFloat, {-1, 3, -1, -1}).output("y");
  for (const char* p : {"s", "b", "mean", "var"}) m.initializer(float_tensor(p, {3}, {1, 1, 1}));
  m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn");
  CHECK(shape_of(inferred(m, {{2, 3, 4, 5}}), "y") == Shape{2, 3, 4, 5});
  m.output("running_mean");
  m.model.mutable_graph()->mutable_node(0)->add_output("running_mean");
  CHECK(error_of([&] { (void)inferred(m, {{2, 3, 4, 5}}); }) ==
        "model.onnx: node 'bn' (BatchNormalization): output 'running_mean' is a training statistic, which fpaudit does "
        "not evaluate");
}
