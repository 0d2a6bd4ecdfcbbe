// The operator lists load_onnx checks every node against.
#include <algorithm>
#include <array>

#include "graph/loader.h"

namespace fpaudit {

namespace {

// Evaluated on runtime data by the engine, or folded when their inputs are constants.
constexpr std::array kSupported = std::to_array<std::string_view>({
    "Abs",        "Add",        "And",         "AveragePool",   "BatchNormalization", "Cast",
    "Ceil",       "Clip",       "Concat",      "Constant",      "ConstantOfShape",    "Conv",
    "ConvTranspose", "Div",     "Dropout",     "Equal",         "Erf",                "Exp",
    "Expand",     "Flatten",    "Floor",       "Gather",        "Gelu",               "Gemm",
    "GlobalAveragePool", "Greater", "HardSigmoid", "HardSwish", "Identity",           "LayerNormalization",
    "LeakyRelu",  "Less",       "Log",         "LogSoftmax",    "MatMul",             "Max",
    "MaxPool",    "Min",        "Mod",         "Mul",           "Neg",                "Not",
    "Or",         "PRelu",      "Pow",         "Range",         "Reciprocal",         "ReduceMax",
    "ReduceMean", "ReduceMin",  "ReduceProd",  "ReduceSum",     "Relu",               "Reshape",
    "Resize",     "Shape",      "Sigmoid",     "Size",          "Slice",              "Softmax",
    "Split",      "Sqrt",       "Squeeze",     "Sub",           "Tanh",               "Tile",
    "Transpose",  "Unsqueeze",  "Where",
});

// Exporters emit these in shape arithmetic only; the engine has no kernels for them.
constexpr std::array kFoldOnly = std::to_array<std::string_view>({
    "Abs", "And", "Ceil", "Equal", "Expand", "Floor", "Greater", "Less", "Mod", "Neg", "Not", "Or",
    "Range", "ReduceMax", "ReduceMin", "ReduceProd", "Size", "Tile", "Where",
});

static_assert(std::ranges::is_sorted(kSupported));
static_assert(std::ranges::is_sorted(kFoldOnly));
static_assert(std::ranges::includes(kSupported, kFoldOnly));

}  // namespace

std::span<const std::string_view> supported_operators() { return kSupported; }
std::span<const std::string_view> fold_only_operators() { return kFoldOnly; }

}  // namespace fpaudit
