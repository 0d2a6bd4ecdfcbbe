// Every binary16 input through each activation: the device computes round_S(f_64(x)) with
// CUDA's binary64 libm, the host with glibc's (activation64.h holds the shared formulas). The
// two agree wherever no binary16 rounding boundary lies within their few-ulp difference; this
// sweep finds out for all 65,536 inputs instead of arguing it.
#include <fmt/format.h>

#include "cuda/check/check.h"
#include "cuda/check/host_ops.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels.h"
#include "format/binary16.h"

namespace fpaudit::cuda::check {

void check_activations(CheckTable& table) {
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  const DeviceBuffer<std::uint16_t> x(all);
  for (const auto& [act, name] : {std::pair{Activation::Relu, "relu"}, {Activation::Gelu, "gelu"},
                                  {Activation::Sigmoid, "sigmoid"}, {Activation::Tanh, "tanh"}}) {
    DeviceBuffer<std::uint16_t> y(all.size());
    activation(act, x.get(), y.get(), static_cast<long>(all.size()), nullptr);
    const std::vector<std::uint16_t> device = y.download();
    CheckRow row{"activation", fmt::format("{}: all 65536 binary16 inputs", name), 65536, 0, 0, 0, 0, ""};
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::uint16_t host = host_activation(act, all[i]);
      if (!same_value(b16::to_float(device[i]), b16::to_float(host)) && row.mismatches++ == 0)
        row.note = fmt::format("first at x = {}: device {}, host {}", describe_half(all[i]), describe_half(device[i]), describe_half(host));
    }
    table.add(row);
  }
}

}  // namespace fpaudit::cuda::check
