// fpaudit kernels [--k K] [--check] [--seed S]: the GPU kernels, their schedules and bounds;
// with --check, every kernel run on the GPU against the host emulation and the exact result.
//
// Exit status: 0 listed / every check passed; 1 a check failed (a bit differed from the host
// emulation, or an error exceeded its bound); 2 bad input or a CUDA failure; 77 --check found
// no usable CUDA device (or fpaudit was built without CUDA), so nothing was checked. 77 is
// the conventional "skipped" status, which ctest's SKIP_RETURN_CODE reads.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "bounds/sum_constants.h"
#include "fpaudit/commands.h"

#if FPAUDIT_HAVE_CUDA
#include "cuda/check/check.h"
#include "cuda/device.h"
#include "cuda/registry.h"
#endif

namespace fpaudit::cli {

namespace {

struct KernelsCommandOptions {
  long k = 1024;
  bool check = false;
  std::uint64_t seed = 20260101;
};

constexpr int kNothingChecked = 77;

#if FPAUDIT_HAVE_CUDA

/// "γ = 3.340e-01" for a sum of k terms under s with unit roundoff u (and its underflow term).
std::string gamma_text(const DotSchedule& s, long k, double u) {
  const double eta = u == 0x1p-11 ? 0x1p-25 : 0x1p-150;
  return fmt::format("{}: γ = {:.3e}", schedule_name(s), bounds::sum_constants(s, k, u, eta, 5.0).gamma);
}

/// The bound lines that apply to a kernel at depth k.
std::vector<std::string> bound_lines(const cuda::KernelInfo& info, long k) {
  using cuda::Accumulation;
  using cuda::ScheduleKind;
  std::vector<std::string> lines;
  switch (info.schedule) {
    case ScheduleKind::Fixed: lines.push_back(gamma_text(info.fixed, k, cuda::unit_roundoff(info.accumulation))); break;
    case ScheduleKind::Chain: {
      const bool chain_format = info.accumulation == Accumulation::ChainFormat;
      for (const double u : chain_format ? std::vector<double>{0x1p-11, 0x1p-24} : std::vector<double>{cuda::unit_roundoff(info.accumulation)})
        for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::pairwise(8)})
          lines.push_back((chain_format ? (u == 0x1p-11 ? "fp16 " : "fp16-acc32 ") : std::string()) + gamma_text(s, k, u));
      break;
    }
    case ScheduleKind::TensorCore:
      for (const cuda::TensorCoreModel& m : cuda::tensor_core_models())
        lines.push_back(fmt::format("sm_{} {}", m.sm, gamma_text(m.schedule, k, cuda::unit_roundoff(info.accumulation))));
      break;
    case ScheduleKind::OfGemm: lines.push_back("the GEMM's, with K = C/groups·KH·KW"); break;
    case ScheduleKind::None: lines.push_back("no sum: exact, or one rounding of a binary64 value (u = 2^-11 relative)"); break;
  }
  return lines;
}

std::string schedule_text(const cuda::KernelInfo& info) {
  switch (info.schedule) {
    case cuda::ScheduleKind::Fixed: return schedule_name(info.fixed);
    case cuda::ScheduleKind::Chain: return "the chain's (any)";
    case cuda::ScheduleKind::TensorCore: return "tensor-core (per GPU)";
    case cuda::ScheduleKind::OfGemm: return "the GEMM's";
    case cuda::ScheduleKind::None: return "none";
  }
  return "?";
}

int list_kernels(const KernelsCommandOptions& opt) {
  const cuda::DeviceStatus& d = cuda::device_status();
  fmt::print("GPU kernels of fpaudit (lib/cuda), built for CUDA architectures {}\n", FPAUDIT_CUDA_ARCHITECTURES);
  fmt::print("device: {}\n\n", d.available ? fmt::format("{} (sm_{})", d.name, d.sm) : d.reason);
  fmt::print("Bounds: |computed − exact| ≤ γ·Σ|x_i·w_i| + η for a sum of K = {} terms (lib/bounds/sum_constants.h;\n", opt.k);
  fmt::print("tensor cores: theory/tensor-core.md). Rounding the result to binary16 adds 2^-11 relative.\n\n");
  fmt::print("{:<16} {:<28} {:<22} {:<34} {}\n", "kernel", "operation", "schedule", "accumulation", "bound at K");
  for (const cuda::KernelInfo& info : cuda::kernel_registry()) {
    const std::vector<std::string> lines = bound_lines(info, opt.k);
    fmt::print("{:<16} {:<28} {:<22} {:<34} {}\n", info.name, info.operation, schedule_text(info),
               cuda::accumulation_name(info.accumulation), lines.front());
    for (std::size_t i = 1; i < lines.size(); ++i) fmt::print("{:<103} {}\n", "", lines[i]);
    fmt::print("{:<16} serves {}\n{:<16} {}\n", "", info.serves, "", info.arithmetic);
  }
  fmt::print("\nTensor-core models (tensor_core_block.h: blocks of B products fused with the accumulator,\n"
             "aligned to the largest exponent, cut below 2^(E-23-G), truncated to binary32):\n");
  for (const cuda::TensorCoreModel& m : cuda::tensor_core_models())
    fmt::print("  sm_{}  {:<18} {}\n", m.sm, schedule_name(m.schedule), m.basis);
  fmt::print("How well a model matches a GPU is measured only on that GPU: fpaudit kernels --check.\n");
  return 0;
}

int check_kernels(const KernelsCommandOptions& opt) {
  const cuda::DeviceStatus& d = cuda::device_status();
  if (!d.available) {
    std::printf("fpaudit kernels --check: %s; nothing checked (exit %d)\n", d.reason.c_str(), kNothingChecked);
    return kNothingChecked;
  }
  cuda::check::CheckOptions options;
  options.seed = opt.seed;
  return cuda::check::run_kernel_checks(options, stdout);
}

#endif  // FPAUDIT_HAVE_CUDA

int run_kernels_command(const KernelsCommandOptions& opt) {
#if FPAUDIT_HAVE_CUDA
  return opt.check ? check_kernels(opt) : list_kernels(opt);
#else
  std::printf("fpaudit was built without CUDA (FPAUDIT_CUDA=OFF, or no nvcc at build time): no GPU kernels%s\n",
              opt.check ? "; nothing checked (exit 77)" : "");
  return opt.check ? kNothingChecked : 0;
#endif
}

}  // namespace

void set_kernels_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<KernelsCommandOptions>();
  CLI::App* sub = app.add_subcommand("kernels", "List the GPU kernels with their schedules and bounds; --check runs them against the host");
  sub->add_option("--k", opt->k, "Terms per sum for the listed bounds")->check(CLI::Range(1L, 1L << 30))->capture_default_str();
  sub->add_flag("--check", opt->check,
                "Run every kernel on the GPU: bit-for-bit against the host emulation, and against exact results with the "
                "bound. Exit 0 pass, 1 fail, 2 error, 77 no CUDA device (nothing checked)");
  sub->add_option("--seed", opt->seed, "Seed of the random check inputs")->capture_default_str();
  sub->callback([opt, &status] { status = run_kernels_command(*opt); });
}

}  // namespace fpaudit::cli
