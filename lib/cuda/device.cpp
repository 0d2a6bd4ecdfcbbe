#include "cuda/device.h"

#include <string>

namespace fpaudit::cuda {

namespace {
std::string describe(cudaError_t code) {
  return std::string(cudaGetErrorName(code)) + " (" + cudaGetErrorString(code) + ")";
}

DeviceStatus probe() {
  DeviceStatus s;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // reset the runtime's last error, which would otherwise resurface later
    s.reason = "no CUDA device: cudaGetDeviceCount returned " + describe(err);
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device: the CUDA runtime found none";
    return s;
  }
  cudaError_t e = cudaGetDevice(&s.device);
  cudaDeviceProp prop{};
  if (e == cudaSuccess) e = cudaGetDeviceProperties(&prop, s.device);
  if (e != cudaSuccess) {
    cudaGetLastError();
    s.reason = "no usable CUDA device: " + describe(e);
    return s;
  }
  s.sm = prop.major * 10 + prop.minor;
  s.name = prop.name;
  s.multiprocessors = prop.multiProcessorCount;
  if (s.sm < 75) {
    s.reason = "CUDA device " + s.name + " is sm_" + std::to_string(s.sm) +
               "; fpaudit's kernels are built for sm_75 and newer";
    return s;
  }
  s.available = true;
  return s;
}
}  // namespace

const DeviceStatus& device_status() {
  static const DeviceStatus status = probe();
  return status;
}

CudaError::CudaError(cudaError_t code, const std::string& what) : std::runtime_error(what + ": " + describe(code)), code_(code) {}

void require_success(cudaError_t code, const char* what) {
  if (code != cudaSuccess) throw CudaError(code, what);
}

void check_launch(const char* kernel) {
  const cudaError_t code = cudaGetLastError();
  if (code != cudaSuccess) throw CudaError(code, std::string("launching ") + kernel);
}

}  // namespace fpaudit::cuda
