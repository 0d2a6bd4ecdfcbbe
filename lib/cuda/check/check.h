// `fpaudit kernels --check`: every GPU kernel against the host emulation of its chain, bit for
// bit, on random and adversarial inputs, and against the exact result with its error bound.
#pragma once

#include <cstdint>
#include <cstdio>

#include "cuda/check/check_table.h"
#include "cuda/device.h"

namespace fpaudit::cuda::check {

struct CheckOptions {
  std::uint64_t seed = 20260101;
};

/// Exit statuses of `fpaudit kernels --check` (documented in its --help and the README).
inline constexpr int kCheckPassed = 0;
inline constexpr int kCheckFailed = 1;
inline constexpr int kCheckNoDevice = 77;  ///< nothing was checked: no usable CUDA device

/// Runs every check on the device (device_status() must be available), printing rows to `out`.
/// Returns kCheckPassed or kCheckFailed; throws CudaError when the GPU itself fails.
int run_kernel_checks(const CheckOptions& options, std::FILE* out);

// The groups of checks run_kernel_checks runs, one file each.
void check_gemms(const CheckOptions& options, const DeviceStatus& device, CheckTable& table);
void check_convolutions(const CheckOptions& options, CheckTable& table);
void check_activations(CheckTable& table);
void check_reductions(const CheckOptions& options, CheckTable& table);

}  // namespace fpaudit::cuda::check
