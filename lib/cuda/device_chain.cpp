#include "cuda/device_chain.h"

#include <stdexcept>
#include <vector>

#include "cuda/device.h"
#include "cuda/device_buffer.h"
#include "cuda/gemm_operands.h"
#include "cuda/registry.h"
#include "format/round.h"
#include "core/chain_arithmetic.h"

namespace fpaudit::cuda {

namespace {

class DeviceChainArithmetic : public ChainArithmetic {
 public:
  DeviceChainArithmetic(const ChainSpec& spec, GemmKernel kernel) : ChainArithmetic(spec), kernel_(kernel) {}

  /// ChainArithmetic::gemm's contract, with the product on the GPU: operands are storage values
  /// (binary16, exact as bit patterns) read through their strides and steps and packed densely
  /// (gemm_operands.h), the bias is rounded into the accumulation format, the kernel adds it
  /// with the accumulator's addition, and the result is rounded to storage here exactly as the
  /// host does.
  bool gemm_batch_layouts() const override { return false; }  // packs g.X itself
  void gemm(const GemmArgs& g) const override {
    if (g.M <= 0 || g.N <= 0) return;
    const PackedGemmOperands packed = pack_gemm_operands(g, *this);
    const DeviceBuffer<std::uint16_t> dw(packed.w), dx(packed.x);
    const DeviceBuffer<float> db(packed.bias);
    DeviceBuffer<float> dy(static_cast<std::size_t>(g.M * g.N));
    GemmProblem p;
    p.M = g.M;
    p.N = g.N;
    p.K = g.K;
    p.W = dw.get();
    p.X = dx.get();
    p.ldx = g.N;
    p.bias = g.bias ? db.get() : nullptr;
    p.Y = dy.get();
    p.ldy = g.N;
    cuda::gemm(kernel_, schedule(), p, nullptr);
    const std::vector<float> y = dy.download();  // synchronous: waits for the kernel
    const bool same_format = storage() == accumulator() || !g.round_to_storage;
    for (long m = 0; m < g.M; ++m)
      for (long n = 0; n < g.N; ++n) {
        const double v = y[m * g.N + n];
        g.Y[m * g.ldy + n] = same_format ? v : round_to(storage(), v);
      }
  }

 private:
  GemmKernel kernel_;
};

}  // namespace

std::optional<GemmKernel> device_gemm_for(const ChainSpec& spec, int sm) {
  // A mixed chain (core/mixed_arithmetic.h) runs on the host: its nodes switch arithmetic.
  if (spec.storage != binary16() || spec.kept) return std::nullopt;
  const bool half_acc = spec.accumulator == binary16();
  if (!half_acc && spec.accumulator != binary32()) return std::nullopt;
  const DotSchedule& s = spec.schedule;
  if (s.order == SumOrder::TensorCore) {
    const TensorCoreModel* model = tensor_core_model(sm);
    if (!model)
      throw std::invalid_argument("chain " + spec.name + ": fpaudit has no tensor-core model for sm_" + std::to_string(sm) +
                                  " (run fpaudit kernels --check to measure one)");
    if (!model->bit_exact)
      throw std::invalid_argument("chain " + spec.name + ": the tensor cores of this GPU (sm_" + std::to_string(sm) +
                                  ") are not modelled bit for bit (fpaudit kernels --check); run tensor-core chains with "
                                  "--device host, or a CUDA-core chain (fp16, fp16-acc32) on the GPU");
    if (!(model->schedule == s))
      throw std::invalid_argument("chain " + spec.name + ": this GPU (sm_" + std::to_string(sm) + ") is modelled as " +
                                  schedule_name(model->schedule) + ", not " + schedule_name(s) + "; use @" +
                                  schedule_name(model->schedule));
    return half_acc ? GemmKernel::MmaBinary16 : GemmKernel::MmaBinary32;
  }
  if (!half_acc) return GemmKernel::ChainBinary32;
  if (s == DotSchedule::sequential()) return GemmKernel::Hfma;
  if (s == DotSchedule::two_lane()) return GemmKernel::Half2;
  return GemmKernel::ChainBinary16;
}

std::unique_ptr<Arithmetic> make_device_chain_arithmetic(const ChainSpec& spec) {
  const DeviceStatus& d = device_status();
  if (!d.available) throw std::runtime_error(d.reason);
  if (const std::optional<GemmKernel> k = device_gemm_for(spec, d.sm)) return std::make_unique<DeviceChainArithmetic>(spec, *k);
  return make_chain_arithmetic(spec);
}

std::string_view gemm_kernel_name(GemmKernel k) {
  switch (k) {
    case GemmKernel::Hfma: return "gemm-hfma";
    case GemmKernel::Half2: return "gemm-half2";
    case GemmKernel::ChainBinary16: return "gemm-chain-b16";
    case GemmKernel::ChainBinary32: return "gemm-chain-b32";
    case GemmKernel::MmaBinary32: return "gemm-mma-acc32";
    case GemmKernel::MmaBinary16: return "gemm-mma-acc16";
  }
  return "?";
}

}  // namespace fpaudit::cuda
