#include "cuda/registry.h"

#include <array>

namespace fpaudit::cuda {

namespace {

// The hardware instructions used in place of the shared HD code are named with the reason they
// give the same bits (the .cu files repeat it where they use them).
constexpr std::string_view kHfmaWhy =
    "hardware __hfma (fma.rn.f16): IEEE binary16 fused multiply-add to nearest even, subnormals kept: "
    "the same single rounding of the same exact value as b16::fma_f";

const std::array kKernels = {
    KernelInfo{"gemm-hfma", "GEMM", kHfmaWhy, Accumulation::Binary16, ScheduleKind::Fixed, DotSchedule::sequential(),
               "fp16 (Gemm, MatMul, Conv)", {"gemm_hfma_kernel", ""}},
    KernelInfo{"gemm-half2", "GEMM",
               "hardware __hfma2: two independent fma.rn.f16, one per half2 lane (as gemm-hfma); lanes added "
               "with acc::Binary16Fma::combine",
               Accumulation::Binary16, ScheduleKind::Fixed, DotSchedule::two_lane(), "fp16@two-lane", {"gemm_half2_kernel", ""}},
    KernelInfo{"gemm-chain-b16", "GEMM",
               "accumulate() with acc::Binary16Fma (b16::fma_f in binary32 operations): the host's source, compiled "
               "for the device",
               Accumulation::Binary16, ScheduleKind::Chain, {}, "fp16@SCHEDULE (any schedule)",
               {"gemm_chain_kernel", "Binary16Fma"}},
    KernelInfo{"gemm-chain-b32", "GEMM",
               "accumulate() with acc::Binary32Fma (fmaf: IEEE binary32 FMA): the host's source, compiled for the device",
               Accumulation::Binary32, ScheduleKind::Chain, {}, "fp16-acc32@SCHEDULE (any schedule)",
               {"gemm_chain_kernel", "Binary32Fma"}},
    KernelInfo{"gemm-mma-acc32", "GEMM",
               "tensor cores, mma.sync f16 × f16 + f32: exact products, aligned and truncated block sums "
               "(tensor_core_block.h models them)",
               Accumulation::TensorCoreBinary32, ScheduleKind::TensorCore, {}, "fp16-acc32@tensor-core-B[+G] (the GPU's model)",
               {"gemm_mma_kernel", "Binary32Fragment"}},
    KernelInfo{"gemm-mma-acc16", "GEMM",
               "tensor cores, mma.sync f16 × f16 + f16: the binary32 block result rounded to nearest binary16 "
               "(tensor_core_block.h)",
               Accumulation::TensorCoreBinary16, ScheduleKind::TensorCore, {}, "fp16@tensor-core-B[+G] (the GPU's model)",
               {"gemm_mma_kernel", "Binary16Fragment"}},
    KernelInfo{"conv2d-im2col", "Conv2d",
               "im2col (exact data movement, padding as zeros, k = (c, kh, kw) row-major) then one of the GEMMs above",
               Accumulation::None, ScheduleKind::OfGemm, {}, "fp16, fp16-acc32 (Conv)", {"im2col_kernel", ""}},
    KernelInfo{"activation", "Activation (GEMM epilogue)",
               "ReLU exact; the others round_S(f_64(x)) with activation64.h's binary64 formulas on CUDA's libm",
               Accumulation::None, ScheduleKind::None, {}, "fp16, fp16-acc32 (Relu, Gelu, Sigmoid, Tanh)",
               {"activation_kernel", ""}},
    KernelInfo{"softmax", "Softmax",
               "max exact; x − m and exp rounded to binary16 (b16::add_f, binary64 exp); Σ by accumulate(); e/s "
               "rounded once",
               Accumulation::ChainFormat, ScheduleKind::Chain, {}, "fp16, fp16-acc32 (Softmax)", {"softmax_kernel", ""}},
    KernelInfo{"layernorm", "LayerNormalization",
               "docs/chain-semantics.md's steps in the accumulation format; sums by accumulate(); binary64 sqrt and "
               "division, rounded once",
               Accumulation::ChainFormat, ScheduleKind::Chain, {}, "fp16, fp16-acc32 (LayerNormalization)",
               {"layernorm_kernel", ""}},
    KernelInfo{"max-pool", "MaxPool", "exact selection", Accumulation::None, ScheduleKind::None, {}, "every chain (MaxPool)",
               {"max_pool_kernel", ""}},
    KernelInfo{"average-pool", "AveragePool", "Σ by accumulate() over the window in row-major order; s/count rounded once",
               Accumulation::ChainFormat, ScheduleKind::Chain, {}, "fp16, fp16-acc32 (AveragePool)",
               {"average_pool_kernel", ""}},
};

// Sources: Fasi, Higham, Mikaitis & Pranesh, "Numerical behavior of NVIDIA tensor cores",
// PeerJ CS 7:e330 (2021), measured T4 and A100; Khattak & Mikaitis, "Generalized methodology
// for determining numerical features of hardware floating-point matrix multipliers: Part I"
// (arXiv 2510.15884), found the RTX 3060 (sm_86) identical to the A100.
const std::array kModels = {
    TensorCoreModel{75, DotSchedule::tensor_core(4), "measured on a T4 (Fasi, Higham, Mikaitis & Pranesh 2021): blocks of 4"},
    TensorCoreModel{80, DotSchedule::tensor_core(8), "measured on an A100 (Fasi, Higham, Mikaitis & Pranesh 2021): blocks of 8"},
    TensorCoreModel{86, DotSchedule::tensor_core(8), "an RTX 3060 behaves as the A100 (Khattak & Mikaitis 2025)"},
    TensorCoreModel{89, DotSchedule::tensor_core(8), "assumed as sm_80-86 (Ada runs the same mma.sync shapes); not measured here"},
    // fpaudit kernels --check on an H200 (2026-12-04, gpu-check): no tensor-core-B+G model with
    // B 4..32, G 0..3 reproduced mma.sync m16n8k16; every output stayed within this model's
    // bound (largest error/bound 0.14). Khattak & Mikaitis, "Accurate models of NVIDIA tensor
    // cores" (arXiv 2512.07004) model H100 with features tensor_core_block.h lacks.
    TensorCoreModel{90, DotSchedule::tensor_core(16),
                    "NOT bit-exact: measured on an H200, no tensor-core-B+G model reproduces mma.sync (closest 16+2: "
                    "3789 binary32-accumulated and 7 binary16-accumulated probe outputs differ); outputs stay within "
                    "this model's bound, so --check checks bounds only",
                    false},
};

}  // namespace

std::span<const KernelInfo> kernel_registry() { return kKernels; }

const KernelInfo* find_kernel(std::string_view name) {
  for (const KernelInfo& k : kKernels)
    if (k.name == name) return &k;
  return nullptr;
}

std::span<const TensorCoreModel> tensor_core_models() { return kModels; }

const TensorCoreModel* tensor_core_model(int sm) {
  for (const TensorCoreModel& m : kModels)
    if (m.sm == sm) return &m;
  return nullptr;
}

double unit_roundoff(Accumulation a) {
  switch (a) {
    case Accumulation::Binary16:
    case Accumulation::TensorCoreBinary16: return 0x1p-11;
    case Accumulation::Binary32:
    case Accumulation::TensorCoreBinary32: return 0x1p-24;
    case Accumulation::ChainFormat:
    case Accumulation::None: return 0.0;
  }
  return 0.0;
}

std::string_view accumulation_name(Accumulation a) {
  switch (a) {
    case Accumulation::Binary16: return "binary16";
    case Accumulation::Binary32: return "binary32";
    case Accumulation::ChainFormat: return "the chain's (binary16 | binary32)";
    case Accumulation::TensorCoreBinary32: return "binary32 (tensor core)";
    case Accumulation::TensorCoreBinary16: return "binary16 (tensor core)";
    case Accumulation::None: return "none";
  }
  return "?";
}

}  // namespace fpaudit::cuda
