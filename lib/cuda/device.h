// Finding a CUDA device without ever failing hard. fpaudit links only the CUDA runtime (never
// libcuda directly), so a machine with no driver or no GPU still starts it: the runtime's first
// call returns an error code (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...) and this
// header turns that into a DeviceStatus that says why, so every caller can fall back cleanly.
#pragma once

#include <stdexcept>
#include <string>

#include <cuda_runtime_api.h>

namespace fpaudit::cuda {

struct DeviceStatus {
  bool available = false;
  std::string reason;  ///< why not, when !available ("no CUDA GPU visible ..."), one line
  int device = 0;      ///< the device used (the runtime's current one, 0 by default)
  int sm = 0;          ///< compute capability × 10 + minor: 75, 80, 86, 89, 90, ...
  std::string name;    ///< "NVIDIA H100 80GB HBM3"
  int multiprocessors = 0;
};

/// Asks the runtime for a device it can run fpaudit's kernels on (sm_75 or newer, the oldest
/// architecture they are built for). Never throws, never aborts; the result is computed once.
const DeviceStatus& device_status();

/// A CUDA runtime error as an exception: "what: cudaErrorInvalidValue (invalid argument)".
class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const std::string& what);
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

/// Throws CudaError unless code is cudaSuccess.
void require_success(cudaError_t code, const char* what);
/// Throws CudaError if the last kernel launch failed (configuration or image errors).
void check_launch(const char* kernel);

}  // namespace fpaudit::cuda
