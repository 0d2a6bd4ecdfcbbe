#include "cuda/check/check.h"

#include <fmt/format.h>

namespace fpaudit::cuda::check {

int run_kernel_checks(const CheckOptions& options, std::FILE* out) {
  const DeviceStatus& device = device_status();
  if (!device.available) throw std::logic_error("run_kernel_checks needs a CUDA device");
  std::fputs(fmt::format("fpaudit kernels --check on {} (sm_{}, {} multiprocessors), seed {}\n\n", device.name, device.sm,
                         device.multiprocessors, options.seed)
                 .c_str(),
             out);
  CheckTable table(out);
  check_gemms(options, device, table);
  check_convolutions(options, table);
  check_activations(table);
  check_reductions(options, table);
  table.print_summary();
  return table.failures() == 0 ? kCheckPassed : kCheckFailed;
}

}  // namespace fpaudit::cuda::check
