// lib/cuda's host side, no GPU needed: the kernel registry is consistent, every built
// architecture has a tensor-core model, chains map to the kernels that compute them, and the
// check inputs and bound machinery of `fpaudit kernels --check` are sound on the host itself
// (the host emulation, run through the same bound checks, never exceeds its bound; the
// exact-integer case is exact under every accumulator and schedule, as its design claims).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "cuda/check/gemm_cases.h"
#include "cuda/check/host_ops.h"
#include "cuda/check/check_table.h"
#include "cuda/check/tensor_core_probe.h"
#include "cuda/device.h"
#include "cuda/device_chain.h"
#include "cuda/registry.h"
#include "format/binary16.h"

using namespace fpaudit;
using namespace fpaudit::cuda;

TEST_CASE("every kernel has a unique name, a device symbol and a schedule the bounds understand") {
  std::set<std::string_view> names;
  for (const KernelInfo& k : kernel_registry()) {
    INFO(k.name);
    CHECK(names.insert(k.name).second);
    CHECK(!k.symbol[0].empty());
    CHECK(find_kernel(k.name) == &k);
    if (k.schedule == ScheduleKind::Fixed) {
      DotSchedule parsed;
      REQUIRE(parse_schedule(schedule_name(k.fixed), parsed));
      CHECK(parsed == k.fixed);
      CHECK(unit_roundoff(k.accumulation) > 0);
    }
    if (k.schedule == ScheduleKind::TensorCore)
      CHECK((k.accumulation == Accumulation::TensorCoreBinary32 || k.accumulation == Accumulation::TensorCoreBinary16));
  }
  CHECK(find_kernel("no-such-kernel") == nullptr);
  // Every GEMM the device chains use is a registered kernel.
  for (const GemmKernel g : {GemmKernel::Hfma, GemmKernel::Half2, GemmKernel::ChainBinary16, GemmKernel::ChainBinary32,
                             GemmKernel::MmaBinary32, GemmKernel::MmaBinary16})
    CHECK(find_kernel(gemm_kernel_name(g)) != nullptr);
}

TEST_CASE("every architecture the kernels are built for has a tensor-core model") {
  std::istringstream archs(FPAUDIT_CUDA_ARCHITECTURES);
  for (std::string arch; std::getline(archs, arch, ',');) {
    const int sm = std::stoi(arch);
    INFO("sm_", sm);
    const TensorCoreModel* m = tensor_core_model(sm);
    REQUIRE(m != nullptr);
    CHECK(m->schedule.order == SumOrder::TensorCore);
    CHECK(!m->basis.empty());
  }
  CHECK(tensor_core_model(70) == nullptr);  // Volta: not built
}

TEST_CASE("chains map to the kernel that computes their arithmetic") {
  CHECK(device_gemm_for(parse_chain("fp16"), 80) == GemmKernel::Hfma);
  CHECK(device_gemm_for(parse_chain("fp16@two-lane"), 80) == GemmKernel::Half2);
  CHECK(device_gemm_for(parse_chain("fp16@pairwise-8"), 80) == GemmKernel::ChainBinary16);
  CHECK(device_gemm_for(parse_chain("fp16-acc32"), 80) == GemmKernel::ChainBinary32);
  CHECK(device_gemm_for(parse_chain("fp16-acc32@tensor-core-8"), 80) == GemmKernel::MmaBinary32);
  CHECK(device_gemm_for(parse_chain("fp16@tensor-core-4"), 75) == GemmKernel::MmaBinary16);
  CHECK(!device_gemm_for(parse_chain("bf16"), 80).has_value());
  CHECK(!device_gemm_for(parse_chain("fp32"), 80).has_value());
  // A tensor-core chain whose model is not the GPU's would not be computed by that GPU.
  try {
    (void)device_gemm_for(parse_chain("fp16-acc32@tensor-core-8"), 75);
    FAIL("expected a refusal");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("use @tensor-core-4") != std::string::npos);
  }
  CHECK_THROWS_AS(device_gemm_for(parse_chain("fp16-acc32@tensor-core-8"), 120), std::invalid_argument);
  // sm_90's model was measured not to be the hardware's bits (an H200, fpaudit kernels --check):
  // its tensor-core chains stay on the host, and the CUDA-core chains still run there.
  REQUIRE(tensor_core_model(90) != nullptr);
  CHECK(!tensor_core_model(90)->bit_exact);
  CHECK(tensor_core_model(80)->bit_exact);
  try {
    (void)device_gemm_for(parse_chain("fp16-acc32@tensor-core-16"), 90);
    FAIL("expected a refusal");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("not modelled bit for bit") != std::string::npos);
  }
  CHECK(device_gemm_for(parse_chain("fp16-acc32"), 90) == GemmKernel::ChainBinary32);
  CHECK(device_gemm_for(parse_chain("fp16"), 90) == GemmKernel::Hfma);
}

TEST_CASE("without a usable device the status says why, on one line") {
  const DeviceStatus& d = device_status();
  if (d.available) {
    CHECK(d.sm >= 75);
    CHECK(!d.name.empty());
  } else {
    CHECK(!d.reason.empty());
    CHECK(d.reason.find('\n') == std::string::npos);
  }
}

TEST_CASE("check inputs: binary16 values, and the exact-integer case is exact in every arithmetic") {
  const std::vector<check::GemmCase> cases = check::gemm_cases(1);
  for (const check::GemmCase& c : cases) {
    INFO(c.name);
    CHECK(c.W.size() == static_cast<std::size_t>(c.M * c.K));
    CHECK(c.X.size() == static_cast<std::size_t>(c.K * c.N));
    long not_binary16 = 0;
    for (const auto* v : {&c.W, &c.X, &c.bias})
      for (const float x : *v) not_binary16 += b16::round_f(x) != x;
    CHECK(not_binary16 == 0);
  }
  const check::GemmCase& ints = cases.front();
  REQUIRE(ints.name == "exact-integers");
  const std::vector<float> exact = check::host_gemm(ints, kernels::AccPolicy::Binary32Fma, DotSchedule::sequential());
  for (const auto policy : {kernels::AccPolicy::Binary16Fma, kernels::AccPolicy::Binary32Fma})
    for (const DotSchedule s : {DotSchedule::two_lane(), DotSchedule::pairwise(4), DotSchedule::tensor_core(4), DotSchedule::tensor_core(16, 3)})
      CHECK(check::host_gemm(ints, policy, s) == exact);
}

TEST_CASE("the check's bound machinery holds for the host emulation on every case and schedule") {
  // The device must reproduce these values bit for bit, so they meet the same bounds; and a
  // violation here would be a flaw in the bound or the case, found without a GPU.
  long checked = 0, violations = 0;
  double worst = 0;
  for (const check::GemmCase& c : check::gemm_cases(7)) {
    if (c.M * c.N * c.K > 3'000'000) continue;  // the big random case adds nothing but time here
    for (const auto policy : {kernels::AccPolicy::Binary16Fma, kernels::AccPolicy::Binary32Fma})
      for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::two_lane(), DotSchedule::tensor_core(4),
                                  DotSchedule::tensor_core(8), DotSchedule::tensor_core(16, 2)}) {
        const bool half = policy == kernels::AccPolicy::Binary16Fma;
        const std::vector<float> y = check::host_gemm(c, policy, s);
        for (long m = 0; m < c.M; ++m)
          for (long n = 0; n < c.N; ++n) {
            const float v = y[m * c.N + n];
            if (!std::isfinite(v)) continue;
            const check::BoundCheck b = check::bound_check(c, m, n, v, s, half ? 0x1p-11 : 0x1p-24, half ? 0x1p-25 : 0x1p-150);
            ++checked;
            if (b.error > b.bound) {
              if (violations++ == 0) FAIL_CHECK(fmt::format("{} {} ({}, {}): error {} > bound {}", c.name, schedule_name(s), m, n, b.error, b.bound));
            }
            if (b.bound > 0) worst = std::max(worst, b.error / b.bound);
          }
      }
  }
  MESSAGE(fmt::format("{} outputs checked; largest error / bound {:.3f}", checked, worst));
  CHECK(violations == 0);
}

TEST_CASE("the host references of --check compute the operators they name") {
  // Sanity of host_ops.h on inputs whose answers are known, so that a GPU mismatch can only
  // come from the device side.
  const std::unique_ptr<Arithmetic> fp16 = make_chain_arithmetic(parse_chain("fp16"));
  const std::unique_ptr<Arithmetic> mixed = make_chain_arithmetic(parse_chain("fp16-acc32"));
  std::vector<std::uint16_t> x;
  for (int i = 0; i < 64; ++i) x.push_back(b16::from_float(static_cast<float>(i % 9) * 0.25f - 1.0f));
  for (const Arithmetic* a : {fp16.get(), mixed.get()}) {
    INFO(a->name());
    // Softmax rows sum to 1 within a few binary16 roundings per element.
    const std::vector<std::uint16_t> s = check::host_softmax(*a, x, 2, 32);
    for (int r = 0; r < 2; ++r) {
      double sum = 0;
      for (int j = 0; j < 32; ++j) sum += b16::to_float(s[r * 32 + j]);
      CHECK(std::fabs(sum - 1) < 32 * 0x1p-10);
    }
    // LayerNorm without scale: mean 0, variance 1, to binary16 accuracy.
    const std::vector<std::uint16_t> y = check::host_layernorm(*a, x, {}, {}, 1e-5, 1, 64);
    double mean = 0, var = 0;
    for (const std::uint16_t h : y) mean += b16::to_float(h) / 64;
    for (const std::uint16_t h : y) var += (b16::to_float(h) - mean) * (b16::to_float(h) - mean) / 64;
    CHECK(std::fabs(mean) < 0x1p-8);
    CHECK(std::fabs(var - 1) < 0x1p-6);
    // Average pooling of a constant plane is the constant (count excludes padding).
    PoolProblem p;
    p.planes = 1, p.H = 4, p.W = 4, p.KH = 3, p.KW = 3, p.pad_h = p.pad_w = 1;
    const std::vector<std::uint16_t> c(16, b16::from_float(1.5f));
    for (const std::uint16_t h : check::host_average_pool(*a, p, c)) CHECK(b16::to_float(h) == 1.5f);
  }
  // Max pooling with the NaN rule, and im2col of a 1×1 convolution is the input itself.
  PoolProblem p;
  p.planes = 1, p.H = 2, p.W = 2, p.KH = 2, p.KW = 2;
  CHECK(check::host_max_pool(p, {b16::from_float(1), b16::from_float(3), b16::from_float(-2), b16::from_float(0)}).at(0) ==
        b16::from_float(3));
  CHECK(std::isnan(b16::to_float(check::host_max_pool(p, {b16::from_float(1), b16::kQuietNaN, 0, 0}).at(0))));
  ConvProblem conv;
  conv.C = 2, conv.H = 3, conv.W = 3, conv.M = 1;
  std::vector<float> image(18);
  for (int i = 0; i < 18; ++i) image[i] = static_cast<float>(i);
  CHECK(check::host_im2col(conv, image.data()) == image);
  CHECK(check::host_activation(Activation::Relu, b16::from_float(-2.0f)) == 0);
  CHECK(check::host_activation(Activation::Sigmoid, 0) == b16::from_float(0.5f));
}

TEST_CASE("the tensor-core variant probe finds the host's own model first, with no miss") {
  // Outputs computed by the host model tensor-core-16 (G = 0) stand in for a GPU's: the search
  // must rank the variant that is that model first, missing nothing.
  std::vector<check::GemmCase> cases;
  std::vector<std::vector<float>> y;
  for (const check::GemmCase& c : check::gemm_cases(7))
    if (c.M * c.N * c.K <= 300'000 && c.name != "overflow") {
      cases.push_back(c);
      y.push_back(check::host_gemm(c, kernels::AccPolicy::Binary32Fma, DotSchedule::tensor_core(16)));
    }
  REQUIRE(cases.size() >= 4);
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  {
    check::CheckTable table(out);
    check::probe_tensor_core_variants("host", false, cases, y, table);
  }
  std::fclose(out);
  const std::string said(text, size);
  std::free(text);
  INFO(said);
  const std::string first = said.substr(0, said.find('\n'));
  CHECK(first.find("B=16 G=0 RZ") != std::string::npos);
  CHECK(first.find("misses 0 of") != std::string::npos);
}
