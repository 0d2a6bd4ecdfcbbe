// The operator lists load_onnx checks every node against.
#include <algorithm>
#include <array>

#include "graph/loader.h"

namespace fpaudit {

namespace {

// Evaluated on runtime data by the engine, or folded when their inputs are constants.
constexpr std::array kSupported = std::to_array<std::string_view>({
    "Abs", "Add", "And", "ArgMax", "ArgMin", "AveragePool",
    "BatchNormalization", "Cast", "Ceil", "Celu", "Clip", "Concat",
    "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "CumSum", "DepthToSpace", "Div",
    "Dropout", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand",
    "Flatten", "Floor", "Gather", "GatherElements", "Gelu", "Gemm", "GlobalAveragePool",
    "GlobalMaxPool", "Greater", "GreaterOrEqual", "GroupNormalization", "HardSigmoid", "HardSwish", "Hardmax",
    "Identity", "InstanceNormalization",
    "LRN", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "LpNormalization",
    "MatMul", "Max", "MaxPool", "Mean", "Min", "Mish", "Mod", "Mul",
    "Neg", "NegativeLogLikelihoodLoss", "NonZero", "Not", "OneHot", "Or", "PRelu", "Pad", "Pow", "Range",
    "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape",
    "Resize", "Round", "ScatterND", "Selu", "Shape", "Sigmoid", "Sign",
    "Size", "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus", "SpaceToDepth", "Split",
    "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "ThresholdedRelu", "Tile", "TopK",
    "Transpose", "Trilu", "Unsqueeze", "Where", "Xor",
});

// Exporters emit these in shape arithmetic only; the engine has no kernels for them. (Integer
// tensors computed at run time, such as token ids, stay out: runtime values are binary64
// numbers rounded to a chain's storage, which would round large integers.)
constexpr std::array kFoldOnly = std::to_array<std::string_view>({
    "Mod", "NonZero", "Range", "Size",
});

static_assert(std::ranges::is_sorted(kSupported));
static_assert(std::ranges::is_sorted(kFoldOnly));
static_assert(std::ranges::includes(kSupported, kFoldOnly));

}  // namespace

std::span<const std::string_view> supported_operators() { return kSupported; }
std::span<const std::string_view> fold_only_operators() { return kFoldOnly; }

}  // namespace fpaudit
