// How fast are the dot-product bound rule's sums (bounds/matmul_sums.h) on ResNet-50's Conv
// shapes? For each shape (M output channels, K = C·kh·kw, N = output pixels) it times, in one
// process, the three sums the rule forms per output (S, Ed, Ep: a propagated pass), the two of a
// deterministic pass (S, Ed), and S alone (a local pass with exact operands and weights,
// RowBlockSums::b_exact): one binary64 sum Σ a·b per output, the peer, which is what a plain
// binary64 GEMM of the shape costs in this kernel layout. Prints ns per term (per k of one output),
// the peer's GFLOP/s (2 flops a term) and the ratio of the three sums to the peer. Rows go in the row blocks of row_block_height(), columns in panels of `panel`
// (as bounds/linear.cpp walks them). Not a test: the machine is shared, each time is the best of
// several trials.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "bounds/matmul_sums.h"

namespace {

using Clock = std::chrono::steady_clock;
using fpaudit::bounds::RowBlockSums;

struct Shape {
  const char* name;
  long M, K, N;
};

/// Seconds for all row blocks and panels of one shape with the given kernel settings.
double run_shape(const Shape& s, long panel, bool prob, bool exact, bool err, std::vector<double>& out) {
  const long rows = fpaudit::bounds::row_block_height();
  std::mt19937_64 rng(20261208);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> am(static_cast<std::size_t>(rows * s.K)), ead(am.size()), eap(am.size());
  std::vector<double> bm(static_cast<std::size_t>(s.K * s.N)), ed(bm.size()), ep(bm.size());
  for (auto* v : {&am, &bm}) std::generate(v->begin(), v->end(), [&] { return u(rng); });
  for (auto* v : {&ead, &eap, &ed, &ep}) std::generate(v->begin(), v->end(), [&] { return err ? u(rng) * 1e-3 : 0.0; });
  out.assign(static_cast<std::size_t>(3 * rows * s.N), 0.0);
  double *S = out.data(), *Ed = S + rows * s.N, *Ep = Ed + rows * s.N;
  RowBlockSums b;
  b.am = am.data();
  b.ead = ead.data();
  b.eap = eap.data();
  b.ld = s.N;
  b.K = s.K;
  b.bm_ld = s.N;
  b.out_ld = s.N;
  b.prob = prob;
  b.b_finite = true;
  b.b_exact = exact;
  double best = 1e300;
  for (int trial = 0; trial < 3; ++trial) {
    const auto t0 = Clock::now();
    for (long n0 = 0; n0 < s.N; n0 += panel) {
      b.bm = bm.data() + n0;
      b.ed = ed.data() + n0;
      b.ep = ep.data() + n0;
      b.N = std::min(panel, s.N - n0);
      for (long m0 = 0; m0 < s.M; m0 += rows) fpaudit::bounds::row_block_sums(b, S + n0, Ed + n0, Ep + n0);
    }
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main() {
  const Shape shapes[] = {{"stem 7x7", 64, 147, 12544},      {"layer1 3x3", 64, 576, 3136}, {"layer2 3x3", 128, 1152, 784},
                          {"layer3 3x3", 256, 2304, 196},    {"layer4 3x3", 512, 4608, 49}, {"layer4 1x1", 2048, 512, 49},
                          {"layer1 1x1 up", 256, 64, 3136}};
  std::vector<double> out;
  std::printf("row block %ld rows; ns per term (one k of one output)\n", fpaudit::bounds::row_block_height());
  std::printf("| shape | M | K | N | S+Ed+Ep | S+Ed | S alone (peer) | peer GFLOP/s | S+Ed+Ep / peer |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const Shape& s : shapes) {
    const double terms = static_cast<double>(s.M) * static_cast<double>(s.K) * static_cast<double>(s.N);
    const long panel = 64;
    const double three = run_shape(s, panel, true, false, true, out) / terms * 1e9;
    const double two = run_shape(s, panel, false, false, true, out) / terms * 1e9;
    // The peer: the same kernel with B exact and A's errors zero forms S alone, Σ a·b.
    const double peer = run_shape(s, panel, true, true, false, out) / terms * 1e9;
    std::printf("| %s | %ld | %ld | %ld | %.3f | %.3f | %.3f | %.1f | %.1f |\n", s.name, s.M, s.K, s.N, three, two, peer, 2 / peer,
                three / peer);
  }
  return 0;
}
