// Softmax, LayerNormalization and pooling on the device against the CPU chain's own operator
// steps (host_ops.h), for the fp16 and fp16-acc32 chains under two schedules each.
#include <random>

#include <fmt/format.h>

#include "cuda/check/check.h"
#include "cuda/check/host_ops.h"
#include "cuda/device_buffer.h"
#include "cuda/kernels.h"
#include "format/binary16.h"

namespace fpaudit::cuda::check {

namespace {

CheckRow compare_halves(const std::string& kernel, const std::string& name, const std::vector<std::uint16_t>& device,
                        const std::vector<std::uint16_t>& host) {
  CheckRow row{kernel, name, static_cast<long>(device.size()), 0, 0, 0, 0, ""};
  for (std::size_t i = 0; i < device.size(); ++i)
    if (!same_value(b16::to_float(device[i]), b16::to_float(host[i])) && row.mismatches++ == 0)
      row.note = fmt::format("first at {}: device {}, host {}", i, describe_half(device[i]), describe_half(host[i]));
  return row;
}

std::vector<std::uint16_t> random_halves(std::mt19937_64& rng, std::size_t n, double scale) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::uint16_t> v(n);
  for (std::uint16_t& h : v) h = b16::from_float(static_cast<float>(normal(rng) * scale));
  return v;
}

}  // namespace

void check_reductions(const CheckOptions& options, CheckTable& table) {
  std::mt19937_64 rng(options.seed + 2);
  std::vector<Reduction> reductions;
  for (const kernels::AccPolicy p : {kernels::AccPolicy::Binary16Fma, kernels::AccPolicy::Binary32Fma})
    for (const DotSchedule s : {DotSchedule::sequential(), DotSchedule::pairwise(8)}) reductions.push_back({p, s});

  for (const Reduction& r : reductions) {
    const ChainSpec spec = chain_of(r);
    const std::unique_ptr<Arithmetic> a = make_chain_arithmetic(spec);
    for (const long length : {1L, 7L, 100L, 1000L, 4099L}) {
      const long rows = 3;
      std::vector<std::uint16_t> x = random_halves(rng, static_cast<std::size_t>(rows * length), length > 500 ? 6.0 : 3.0);
      const DeviceBuffer<std::uint16_t> dx(x);
      DeviceBuffer<std::uint16_t> dy(x.size());
      softmax(r, dx.get(), dy.get(), rows, length, nullptr);
      table.add(compare_halves("softmax", fmt::format("{} rows of {}, {}", rows, length, spec.name), dy.download(),
                               host_softmax(*a, x, rows, length)));
    }
    for (const long length : {1L, 8L, 384L, 1000L}) {
      for (const bool affine : {false, true}) {
        const long rows = 4;
        const std::vector<std::uint16_t> x = random_halves(rng, static_cast<std::size_t>(rows * length), 2.0);
        const std::vector<std::uint16_t> gamma = affine ? random_halves(rng, static_cast<std::size_t>(length), 1.0) : std::vector<std::uint16_t>{};
        const std::vector<std::uint16_t> beta = affine ? random_halves(rng, static_cast<std::size_t>(length), 0.5) : std::vector<std::uint16_t>{};
        const DeviceBuffer<std::uint16_t> dx(x), dg(gamma), db(beta);
        DeviceBuffer<std::uint16_t> dy(x.size());
        layernorm(r, dx.get(), affine ? dg.get() : nullptr, affine ? db.get() : nullptr, 1e-5, dy.get(), rows, length, nullptr);
        table.add(compare_halves("layernorm", fmt::format("{} rows of {}{}, {}", rows, length, affine ? " +γβ" : "", spec.name),
                                 dy.download(), host_layernorm(*a, x, gamma, beta, 1e-5, rows, length)));
      }
    }
    for (const bool include_pad : {false, true}) {
      PoolProblem p;
      p.planes = 6, p.H = 9, p.W = 11, p.KH = 3, p.KW = 3, p.stride_h = p.stride_w = 2, p.pad_h = p.pad_w = 1;
      p.count_include_pad = include_pad;
      const std::vector<std::uint16_t> x = random_halves(rng, static_cast<std::size_t>(p.planes * p.H * p.W), 4.0);
      const DeviceBuffer<std::uint16_t> dx(x);
      DeviceBuffer<std::uint16_t> dy(static_cast<std::size_t>(p.planes * p.OH() * p.OW()));
      average_pool(r, p, dx.get(), dy.get(), nullptr);
      table.add(compare_halves("average-pool", fmt::format("3x3 s2 p1{}, {}", include_pad ? " incl. pad" : "", spec.name),
                               dy.download(), host_average_pool(*a, p, x)));
    }
  }
  PoolProblem p;
  p.planes = 6, p.H = 9, p.W = 11, p.KH = 3, p.KW = 2, p.stride_h = 2, p.stride_w = 1, p.pad_h = 1;
  std::vector<std::uint16_t> x = random_halves(rng, static_cast<std::size_t>(p.planes * p.H * p.W), 4.0);
  x[17] = b16::kQuietNaN;  // a NaN propagates to the windows that hold it
  const DeviceBuffer<std::uint16_t> dx(x);
  DeviceBuffer<std::uint16_t> dy(static_cast<std::size_t>(p.planes * p.OH() * p.OW()));
  max_pool(p, dx.get(), dy.get(), nullptr);
  table.add(compare_halves("max-pool", "3x2 s(2,1) p(1,0), one NaN", dy.download(), host_max_pool(p, x)));
}

}  // namespace fpaudit::cuda::check
