// Convolutions: im2col + GEMM on the device, with bias and an activation in the epilogue,
// against the host's im2col in (c, kh, kw) order, gemm_float_scalar, storage rounding and the
// fp16 chain's own activation operator. Shapes cover stride, padding, dilation, groups, 1×1.
#include <random>

#include <fmt/format.h>

#include "cuda/check/check.h"
#include "cuda/check/gemm_cases.h"
#include "cuda/check/host_ops.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels.h"
#include "cuda/registry.h"
#include "format/binary16.h"

namespace fpaudit::cuda::check {

namespace {

struct ConvCase {
  std::string name;
  ConvProblem c;
  Activation act;
};

/// The host's y16 for the whole batch: per sample and group, im2col, the chain's GEMM with the
/// bias, rounding to binary16, the activation.
std::vector<std::uint16_t> host_conv(const ConvProblem& c, const std::vector<float>& x, const std::vector<float>& w,
                                     const std::vector<float>& bias, kernels::AccPolicy policy, const DotSchedule& s, Activation act) {
  const long P = c.OH() * c.OW(), K = c.K(), Cg = c.C / c.groups, Mg = c.M / c.groups;
  std::vector<std::uint16_t> y(static_cast<std::size_t>(c.N * c.M * P));
  for (long n = 0; n < c.N; ++n)
    for (long g = 0; g < c.groups; ++g) {
      GemmCase gc{"", Mg, P, K, {}, host_im2col(c, x.data() + (n * c.C + g * Cg) * c.H * c.W), {}};
      gc.W.assign(w.begin() + g * Mg * K, w.begin() + (g + 1) * Mg * K);
      gc.bias.assign(bias.begin() + g * Mg, bias.begin() + (g + 1) * Mg);
      const std::vector<float> acc = host_gemm(gc, policy, s);
      for (long i = 0; i < Mg * P; ++i) y[(n * c.M + g * Mg) * P + i] = host_activation(act, b16::from_float(acc[i]));
    }
  return y;
}

}  // namespace

void check_convolutions(const CheckOptions& options, CheckTable& table) {
  std::mt19937_64 rng(options.seed + 1);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto half = [&](double scale) { return b16::round_f(static_cast<float>(normal(rng) * scale)); };
  std::vector<ConvCase> cases;
  {
    ConvProblem c;
    c.N = 2, c.C = 3, c.H = 11, c.W = 9, c.M = 5, c.KH = 3, c.KW = 3, c.stride_h = c.stride_w = 2, c.pad_h = c.pad_w = 1;
    cases.push_back({"3x3 stride 2 pad 1, relu", c, Activation::Relu});
  }
  {
    ConvProblem c;
    c.N = 1, c.C = 4, c.H = 8, c.W = 10, c.M = 6, c.KH = 3, c.KW = 2, c.pad_h = 2, c.dilation_h = c.dilation_w = 2, c.groups = 2;
    cases.push_back({"3x2 dilation 2 groups 2, gelu", c, Activation::Gelu});
  }
  {
    ConvProblem c;
    c.N = 1, c.C = 16, c.H = 5, c.W = 5, c.M = 4;
    cases.push_back({"1x1, sigmoid", c, Activation::Sigmoid});
    cases.push_back({"1x1, tanh", c, Activation::Tanh});
  }
  const TensorCoreModel* model = tensor_core_model(device_status().sm);
  using kernels::AccPolicy;
  struct Under {
    const char* name;
    GemmKernel kernel;
    AccPolicy policy;
    DotSchedule schedule;
  };
  std::vector<Under> kernels = {{"conv2d+hfma", GemmKernel::Hfma, AccPolicy::Binary16Fma, DotSchedule::sequential()},
                                {"conv2d+half2", GemmKernel::Half2, AccPolicy::Binary16Fma, DotSchedule::two_lane()},
                                {"conv2d+chain-b32", GemmKernel::ChainBinary32, AccPolicy::Binary32Fma, DotSchedule::sequential()}};
  if (model && model->bit_exact) kernels.push_back({"conv2d+mma-acc32", GemmKernel::MmaBinary32, AccPolicy::Binary32Fma, model->schedule});
  for (const ConvCase& cc : cases) {
    const ConvProblem& c = cc.c;
    std::vector<float> x(static_cast<std::size_t>(c.N * c.C * c.H * c.W)), w(static_cast<std::size_t>(c.M * c.K())),
        bias(static_cast<std::size_t>(c.M));
    for (float& v : x) v = half(1.0);
    for (float& v : w) v = half(0.5);
    for (float& v : bias) v = half(0.1);
    const DeviceBuffer<std::uint16_t> dx(to_binary16(x)), dw(to_binary16(w));
    const DeviceBuffer<float> dbias(bias);
    const std::size_t outputs = static_cast<std::size_t>(c.N * c.M * c.OH() * c.OW());
    for (const Under& u : kernels) {
      DeviceBuffer<std::uint16_t> dy(outputs);
      conv2d(u.kernel, u.schedule, c, dx.get(), dw.get(), dbias.get(), nullptr, dy.get(), cc.act, nullptr);
      const std::vector<std::uint16_t> device = dy.download();
      const std::vector<std::uint16_t> host = host_conv(c, x, w, bias, u.policy, u.schedule, cc.act);
      CheckRow row{u.name, cc.name, static_cast<long>(outputs), 0, 0, 0, 0, ""};
      for (std::size_t i = 0; i < outputs; ++i)
        if (!same_value(b16::to_float(device[i]), b16::to_float(host[i])) && row.mismatches++ == 0)
          row.note = fmt::format("first at output {}: device {}, host {}", i, describe_half(device[i]), describe_half(host[i]));
      table.add(row);
    }
  }
}

}  // namespace fpaudit::cuda::check
