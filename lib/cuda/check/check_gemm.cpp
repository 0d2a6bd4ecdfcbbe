// The GEMM kernels on gemm_cases.h's inputs: each against gemm_float_scalar with the policy
// and schedule it declares (registry.h), and against the exact result with its bound. For the
// tensor-core kernels a probe then asks which nearby models (block size, extra alignment bits)
// match the hardware on every output: the measurement the model can only get on a GPU.
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cuda/check/check.h"
#include "cuda/check/gemm_cases.h"
#include "cuda/check/tensor_core_probe.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels.h"
#include "cuda/registry.h"
#include "format/binary16.h"

namespace fpaudit::cuda::check {

namespace {

struct GemmUnderTest {
  std::string name;
  GemmKernel kernel;
  kernels::AccPolicy policy;  ///< the host emulation's accumulator
  DotSchedule schedule;       ///< the schedule the kernel runs (and the host emulates)
};

double unit_of(kernels::AccPolicy p) { return p == kernels::AccPolicy::Binary16Fma ? 0x1p-11 : 0x1p-24; }
double eta_of(kernels::AccPolicy p) { return p == kernels::AccPolicy::Binary16Fma ? 0x1p-25 : 0x1p-150; }

/// The device's outputs of one case: accumulator values and their binary16 rounding.
struct DeviceResult {
  std::vector<float> y;
  std::vector<std::uint16_t> y16;
};

DeviceResult run_on_device(const GemmUnderTest& t, const GemmCase& c) {
  const DeviceBuffer<std::uint16_t> w(to_binary16(c.W)), x(to_binary16(c.X));
  const DeviceBuffer<float> bias(c.bias);
  DeviceBuffer<float> y(static_cast<std::size_t>(c.M * c.N));
  DeviceBuffer<std::uint16_t> y16(static_cast<std::size_t>(c.M * c.N));
  GemmProblem p;
  p.M = c.M;
  p.N = c.N;
  p.K = c.K;
  p.W = w.get();
  p.X = x.get();
  p.ldx = c.N;
  p.bias = c.bias.empty() ? nullptr : bias.get();
  p.Y = y.get();
  p.ldy = c.N;
  p.Y16 = y16.get();
  p.ldy16 = c.N;
  gemm(t.kernel, t.schedule, p, nullptr);
  return {y.download(), y16.download()};
}

CheckRow compare(const GemmUnderTest& t, const GemmCase& c, const DeviceResult& d) {
  CheckRow row{t.name, fmt::format("{} @{}", c.name, schedule_name(t.schedule)), 0, 0, 0, 0, 0, ""};
  const std::vector<float> host = host_gemm(c, t.policy, t.schedule);
  for (long m = 0; m < c.M; ++m)
    for (long n = 0; n < c.N; ++n) {
      const long i = m * c.N + n;
      ++row.compared;
      // NaN's sign and payload are not arithmetic (a GPU's default NaN differs from x86's).
      const bool same = same_value(d.y[i], host[i]) && same_value(b16::to_float(d.y16[i]), b16::round_f(host[i]));
      if (!same && row.mismatches++ == 0)
        row.note = fmt::format("first at ({}, {}): device {}, host {}", m, n, describe_float(d.y[i]), describe_float(host[i]));
      if (!std::isfinite(d.y[i])) continue;  // overflow is an event, not an error to bound
      const BoundCheck b = bound_check(c, m, n, d.y[i], t.schedule, unit_of(t.policy), eta_of(t.policy));
      ++row.bounded;
      if (b.error > b.bound) ++row.violations;
      if (b.bound > 0) row.worst_ratio = std::max(row.worst_ratio, b.error / b.bound);
    }
  return row;
}

/// Which TensorCore(b, g) models reproduce every stored device output.
void probe_tensor_core(const std::string& kernel, kernels::AccPolicy policy, const std::vector<GemmCase>& cases,
                       const std::vector<DeviceResult>& results, CheckTable& table) {
  std::vector<std::string> matching;
  std::string best;
  long best_mismatches = -1;
  for (const int b : {4, 8, 16, 32})
    for (int g = 0; g <= 3; ++g) {
      const DotSchedule s = DotSchedule::tensor_core(b, g);
      long mismatches = 0;
      for (std::size_t i = 0; i < cases.size(); ++i) {
        const std::vector<float> host = host_gemm(cases[i], policy, s);
        for (std::size_t j = 0; j < host.size(); ++j) mismatches += !same_value(results[i].y[j], host[j]);
      }
      if (mismatches == 0) matching.push_back(schedule_name(s));
      if (best_mismatches < 0 || mismatches < best_mismatches) best_mismatches = mismatches, best = schedule_name(s);
    }
  if (!matching.empty()) {
    table.say(fmt::format("probe {}: models that reproduce every output: {}", kernel, fmt::join(matching, ", ")));
  } else {
    table.say(fmt::format("probe {}: no tensor-core-B+G model (B 4..32, G 0..3) reproduces every output; closest {} "
                          "with {} outputs different: the hardware does something this model lacks",
                          kernel, best, best_mismatches));
  }
}

}  // namespace

void check_gemms(const CheckOptions& options, const DeviceStatus& device, CheckTable& table) {
  const std::vector<GemmCase> cases = gemm_cases(options.seed);
  using kernels::AccPolicy;
  std::vector<GemmUnderTest> tests = {
      {"gemm-hfma", GemmKernel::Hfma, AccPolicy::Binary16Fma, DotSchedule::sequential()},
      {"gemm-half2", GemmKernel::Half2, AccPolicy::Binary16Fma, DotSchedule::two_lane()},
  };
  for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::blocked(32),
                              DotSchedule::pairwise(8), DotSchedule::tensor_core(8)})
    tests.push_back({"gemm-chain-b16", GemmKernel::ChainBinary16, AccPolicy::Binary16Fma, s});
  for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::pairwise(8), DotSchedule::tensor_core(16, 1)})
    tests.push_back({"gemm-chain-b32", GemmKernel::ChainBinary32, AccPolicy::Binary32Fma, s});
  for (const GemmUnderTest& t : tests)
    for (const GemmCase& c : cases) table.add(compare(t, c, run_on_device(t, c)));

  // Tensor cores: the device's model decides what "the host's bits" are.
  const TensorCoreModel* model = tensor_core_model(device.sm);
  if (model) table.say(fmt::format("tensor-core model for sm_{}: {} ({})", device.sm, schedule_name(model->schedule), model->basis));
  else table.say(fmt::format("no tensor-core model for sm_{}: the probe below is the only measurement", device.sm));
  for (const auto& [name, kernel, policy] : {std::tuple{"gemm-mma-acc32", GemmKernel::MmaBinary32, AccPolicy::Binary32Fma},
                                             std::tuple{"gemm-mma-acc16", GemmKernel::MmaBinary16, AccPolicy::Binary16Fma}}) {
    std::vector<GemmCase> probed;
    std::vector<DeviceResult> probed_results;
    const GemmUnderTest t{name, kernel, policy, model ? model->schedule : DotSchedule::tensor_core(kDefaultTensorCoreBlock)};
    for (const GemmCase& c : cases) {
      DeviceResult d = run_on_device(t, c);
      CheckRow row = compare(t, c, d);
      if (!model) row.mismatches = 0, row.violations = 0, row.note = "no model for this GPU: not a failure";
      if (model && !model->bit_exact && row.mismatches > 0) {  // known: the bits are not the model's; the bound still holds
        row.note = fmt::format("{} outputs differ from the model, known not bit-exact here; bound checked", row.mismatches);
        row.mismatches = 0;
      }
      table.add(row);
      if (c.M * c.N * c.K <= 2'500'000) probed.push_back(c), probed_results.push_back(std::move(d));
    }
    probe_tensor_core(name, policy, probed, probed_results, table);
    if (model && !model->bit_exact) {  // a wider search on the small cases, for the next model
      std::vector<GemmCase> small;
      std::vector<std::vector<float>> small_y;
      for (std::size_t i = 0; i < probed.size(); ++i)
        if (probed[i].M * probed[i].N * probed[i].K <= 300'000) small.push_back(probed[i]), small_y.push_back(probed_results[i].y);
      probe_tensor_core_variants(name, policy == AccPolicy::Binary16Fma, small, small_y, table);
    }
  }
}

}  // namespace fpaudit::cuda::check
