#include "core/arithmetic.h"

#include <array>
#include <stdexcept>

#include "core/chain_arithmetic.h"

namespace fpaudit {

std::string_view unary_fn_name(UnaryFn f) {
  constexpr std::array<std::string_view, 9> names = {"exp", "log", "tanh", "sigmoid", "erf", "gelu", "sqrt", "reciprocal", "rsqrt"};
  return names[static_cast<int>(f)];
}

void Arithmetic::round_storage(std::span<double> values) const {
  for (double& v : values) v = round(v, Target::Storage);
}

void Arithmetic::gemm(const GemmArgs& g) const {
  for (long m = 0; m < g.M; ++m)
    for (long n = 0; n < g.N; ++n) {
      double acc = dot(g.W + m * g.ldw, g.w_step, g.X + n * g.x_step, g.ldx, g.K);
      if (g.bias) acc = add(acc, round(g.bias[m], Target::Accumulator), Target::Accumulator);
      g.Y[m * g.ldy + n] = g.round_to_storage ? round(acc, Target::Storage) : acc;
    }
}

namespace {
const std::array kChains = {
    ChainSpec{"fp32", binary32(), binary32(), DotSchedule::sequential()},
    ChainSpec{"fp16", binary16(), binary16(), DotSchedule::sequential()},
    ChainSpec{"fp16-acc32", binary16(), binary32(), DotSchedule::sequential()},
    ChainSpec{"bf16", bfloat16(), bfloat16(), DotSchedule::sequential()},
    ChainSpec{"bf16-acc32", bfloat16(), binary32(), DotSchedule::sequential()},
    ChainSpec{"fp8-e4m3-acc32", e4m3(), binary32(), DotSchedule::sequential()},
    ChainSpec{"fp8-e5m2-acc32", e5m2(), binary32(), DotSchedule::sequential()},
};
}  // namespace

std::span<const ChainSpec> named_chains() { return kChains; }

ChainSpec parse_chain(std::string_view text) {
  const std::size_t at = text.find('@');
  const std::string_view name = text.substr(0, at);
  for (const ChainSpec& c : kChains) {
    if (c.name != name) continue;
    ChainSpec spec = c;
    if (at != std::string_view::npos) {
      const std::string_view sched = text.substr(at + 1);
      if (!parse_schedule(sched, spec.schedule))
        throw std::invalid_argument("unknown schedule '" + std::string(sched) +
                                    "' (expected sequential, two-lane, blocked-B, pairwise-L or tensor-core[-B[+G]])");
      spec.name = std::string(text);
    }
    return spec;
  }
  std::string known;
  for (const ChainSpec& c : kChains) known += (known.empty() ? "" : ", ") + c.name;
  throw std::invalid_argument("unknown chain '" + std::string(name) + "' (known: " + known + ")");
}

std::unique_ptr<Arithmetic> make_chain_arithmetic(const ChainSpec& spec) {
  return std::make_unique<ChainArithmetic>(spec);
}

}  // namespace fpaudit
