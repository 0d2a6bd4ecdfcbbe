#include "cuda/device.h"

#include <cstdlib>
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
  // Without a GPU the runtime answers "no device", or, with no NVIDIA driver loaded at all,
  // "driver version insufficient": both mean that no GPU is visible, and say so.
  int driver = 0;
  const bool no_driver = cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0;
  if (err == cudaErrorNoDevice || (err == cudaErrorInsufficientDriver && no_driver) || (err == cudaSuccess && count == 0)) {
    cudaGetLastError();
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    s.reason = std::string("no CUDA GPU visible") +
               (visible ? " (CUDA_VISIBLE_DEVICES=" + std::string(visible) + ")" : no_driver ? " (no NVIDIA driver loaded)" : "");
    return s;
  }
  if (err != cudaSuccess) {
    cudaGetLastError();  // reset the runtime's last error, which would otherwise resurface later
    s.reason = "no usable CUDA GPU: cudaGetDeviceCount returned " + describe(err);
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
