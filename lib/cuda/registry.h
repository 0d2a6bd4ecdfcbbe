// What each GPU kernel computes, as data the host can read without a GPU: its operation, the
// per-element arithmetic (and why it is the host chain's), the accumulation format, the
// summation schedule, the chains it serves, and the name of its device entry point. The
// `fpaudit kernels` listing, the bounds it prints, the device chains of `fpaudit audit
// --device cuda` and the build test that every kernel exists for every architecture all
// read this one table.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/schedule.h"

namespace fpaudit::cuda {

/// Where a kernel's sums accumulate.
enum class Accumulation : std::uint8_t {
  Binary16,            ///< binary16 FMA chain (hfma)
  Binary32,            ///< binary32 FMA chain (FFMA)
  ChainFormat,         ///< the chain's: binary16 for fp16, binary32 for fp16-acc32
  TensorCoreBinary32,  ///< tensor-core blocks into binary32 accumulators
  TensorCoreBinary16,  ///< tensor-core blocks into binary16 accumulators
  None,                ///< no sum (data movement, elementwise, maximum)
};

/// Which summation order a kernel runs.
enum class ScheduleKind : std::uint8_t {
  Fixed,         ///< always KernelInfo::fixed
  Chain,         ///< the chain's own schedule, whatever it is (the kernel runs accumulate())
  TensorCore,    ///< the tensor-core model of the device's architecture (tensor_core_model)
  OfGemm,        ///< the GEMM kernel it hands the product to
  None,
};

struct KernelInfo {
  std::string_view name;        ///< "gemm-hfma"
  std::string_view operation;   ///< "GEMM", "Conv2d", "Softmax", ...
  std::string_view arithmetic;  ///< per-element arithmetic, and why it is the host chain's
  Accumulation accumulation;
  ScheduleKind schedule;
  DotSchedule fixed;            ///< the schedule when `schedule` is Fixed
  std::string_view serves;      ///< the chains whose operator it computes
  /// Substrings that one device function of the compiled library contains (its mangled name):
  /// the build test finds it in every architecture's machine code.
  std::array<std::string_view, 2> symbol;
};

/// Every kernel in lib/cuda, in listing order.
std::span<const KernelInfo> kernel_registry();
/// The kernel of that name, or null.
const KernelInfo* find_kernel(std::string_view name);

/// The tensor-core model fpaudit assumes for one GPU architecture, and what that rests on.
struct TensorCoreModel {
  int sm;                  ///< 75, 80, 86, 89, 90
  DotSchedule schedule;    ///< TensorCore(b, extra bits)
  std::string_view basis;  ///< "measured on ... (source)" or "assumed: ..."
  /// False where a measurement on that GPU showed the model does not reproduce the hardware's
  /// bits: its tensor-core chains then do not run there (device_chain.h), and --check compares
  /// its outputs with the model's bound only.
  bool bit_exact = true;
};
/// The architectures the kernels are built for, each with its model.
std::span<const TensorCoreModel> tensor_core_models();
/// The model for compute capability `sm` (major·10 + minor), or null when fpaudit has none
/// (a newer GPU running the kernels from PTX: --check's probe is then the only word).
const TensorCoreModel* tensor_core_model(int sm);

/// Unit roundoff of a fixed accumulation (0 for None; ChainFormat has none of its own).
double unit_roundoff(Accumulation a);
std::string_view accumulation_name(Accumulation a);

}  // namespace fpaudit::cuda
