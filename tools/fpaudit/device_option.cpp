#include "fpaudit/device_option.h"

#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#if FPAUDIT_HAVE_CUDA
#include "cuda/device.h"
#include "cuda/device_chain.h"
#endif

namespace fpaudit::cli {

ChainFactory chain_factory_for(const std::string& device, const std::vector<ChainSpec>& chains) {
  if (device != "cuda") return {};
#if FPAUDIT_HAVE_CUDA
  const cuda::DeviceStatus& d = cuda::device_status();
  if (!d.available) throw std::runtime_error("--device cuda: " + d.reason);
  std::string placed;
  for (const ChainSpec& spec : chains) {
    const auto kernel = cuda::device_gemm_for(spec, d.sm);  // throws for a tensor-core model mismatch
    placed += fmt::format("{}{} on {}", placed.empty() ? "" : ", ", spec.name, kernel ? cuda::gemm_kernel_name(*kernel) : "the host");
  }
  std::fprintf(stderr, "fpaudit: --device cuda: %s (sm_%d); GEMM and Conv of %s\n", d.name.c_str(), d.sm, placed.c_str());
  return [](const ChainSpec& spec) { return cuda::make_device_chain_arithmetic(spec); };
#else
  (void)chains;
  throw std::runtime_error("--device cuda: this fpaudit was built without CUDA (FPAUDIT_CUDA=OFF or no nvcc at build time)");
#endif
}

}  // namespace fpaudit::cli
