#include "shadow/margin/slot_sums.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "shadow/margin/rounding.h"

namespace fpaudit::margin {

namespace {

/// One slot's running sums (in the order of SlotSums) and operands.
struct Lane {
  double acc[8] = {};
  const double *mid, *rad, *ld, *lp, *d, *sr, *q, *h, *obs;
  long n;
};

Lane lane_of(const SlotJob& j) {
  const SlotInputs& in = j.in;
  auto data = [](const std::vector<double>* v) { return v ? v->data() : nullptr; };
  Lane l;
  l.mid = j.g->mid.data(), l.rad = j.g->rad.data(), l.ld = data(in.l_det), l.lp = data(in.l_prob);
  l.d = data(in.known), l.sr = data(in.spread), l.q = data(in.q), l.h = data(in.h), l.obs = data(in.observed);
  l.n = static_cast<long>(in.l_det->size());
  return l;
}

constexpr long kChunk = 256;

/// The sums a kind takes, in the order of SlotSums' members: their positions in Lane::acc.
template <bool kKnown, bool kAzuma, bool kObserved>
struct Layout {
  static constexpr int known = 2, azuma = kKnown ? 5 : 2, observed = azuma + (kAzuma ? 2 : 0), count = observed + (kObserved ? 1 : 0);
};

/// The terms of elements [i0, i0 + n) of one slot, one row of T per sum (T[s·kChunk + i]):
/// elementwise, so the compiler vectorises it; each term is the value the sum adds.
/// |G_i| = |mid_i| + rad_i; an element whose cotangent is exactly zero (it does not reach c)
/// contributes nothing even where a weight is infinite: its terms are +0, which leave the sums
/// unchanged (they start at +0 and in rounding to nearest never become −0), the same bits as
/// skipping the element, Inf·0 avoided.
template <bool kKnown, bool kAzuma, bool kObserved>
void terms(const Lane& l, long i0, long n, double* T) {
  using Lay = Layout<kKnown, kAzuma, kObserved>;
  // Every operand a restrict-qualified local: no store to T can change them, so the loop
  // vectorises (the same operations per element, in vector lanes).
  const double *__restrict mid = l.mid + i0, *__restrict rad = l.rad + i0, *__restrict ld = l.ld + i0, *__restrict lp = l.lp + i0;
  const double *__restrict dd = kKnown ? l.d + i0 : nullptr, *__restrict sr = kKnown ? l.sr + i0 : nullptr;
  const double *__restrict q = kAzuma ? l.q + i0 : nullptr, *__restrict h = kAzuma ? l.h + i0 : nullptr;
  const double* __restrict obs = kObserved ? l.obs + i0 : nullptr;
  double *__restrict t_det = T, *__restrict t_prob = T + kChunk;
  double *__restrict t_sum = T + Lay::known * kChunk, *__restrict t_abs = T + (Lay::known + 1) * kChunk, *__restrict t_rest = T + (Lay::known + 2) * kChunk;
  double *__restrict t_var = T + Lay::azuma * kChunk, *__restrict t_ar = T + (Lay::azuma + 1) * kChunk;
  double* __restrict t_obs = T + Lay::observed * kChunk;
  for (long i = 0; i < n; ++i) {
    const double m = mid[i], rd = rad[i];
    const double a = std::fabs(m) + rd;
    const bool live = a != 0;
    const double x_det = a * ld[i], x_prob = a * lp[i];
    t_det[i] = live ? x_det : 0.0;
    t_prob[i] = live ? x_prob : 0.0;
    if constexpr (kKnown) {
      const double d = dd[i], p = m * d;
      const double x_abs = std::fabs(p), x_rest = rd * std::fabs(d) + (std::fabs(m) + rd) * sr[i];
      t_sum[i] = live ? p : 0.0;
      t_abs[i] = live ? x_abs : 0.0;
      t_rest[i] = live ? x_rest : 0.0;
    }
    if constexpr (kAzuma) {
      // m·m + kUnderflowFloor ≥ m² even where m·m underflows, so that the product by q (which
      // may be large) carries one underflow term only (theory/bounds-arithmetic.md §1(a)); a
      // normal number, so that m = 0 (in a dead lane too) costs no subnormal product.
      const double x_var = (m * m + kUnderflowFloor) * q[i], x_ar = std::fabs(m) * h[i] + rd * lp[i];
      t_var[i] = live ? x_var : 0.0;
      t_ar[i] = live ? x_ar : 0.0;
    }
    if constexpr (kObserved) t_obs[i] = m * obs[i];
  }
}

/// Elements [from, to) of G slots side by side: the terms of a chunk, then every sum of every
/// slot its own chain over the chunk in index order (G·count chains, each bound by an
/// addition's latency alone, together by the adders' throughput).
template <bool kKnown, bool kAzuma, bool kObserved, int G>
void run(Lane* const* l, long from, long to) {
  constexpr int S = Layout<kKnown, kAzuma, kObserved>::count;
  thread_local std::vector<double> buffer(static_cast<std::size_t>(8 * 4 * kChunk));
  double* T = buffer.data();
  double acc[G][S];
  for (int g = 0; g < G; ++g)
    for (int s = 0; s < S; ++s) acc[g][s] = l[g]->acc[s];
  for (long i0 = from; i0 < to; i0 += kChunk) {
    const long n = std::min(kChunk, to - i0);
    for (int g = 0; g < G; ++g) terms<kKnown, kAzuma, kObserved>(*l[g], i0, n, T + g * S * kChunk);
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g)
#pragma GCC unroll 8
        for (int s = 0; s < S; ++s) acc[g][s] += T[(g * S + s) * kChunk + i];
    }
  }
  for (int g = 0; g < G; ++g)
    for (int s = 0; s < S; ++s) l[g]->acc[s] = acc[g][s];
}

/// G slots side by side up to the shortest one's length, then each to its end alone.
template <bool kKnown, bool kAzuma, bool kObserved, int G>
void lanes(const SlotJob* const* jobs) {
  using Lay = Layout<kKnown, kAzuma, kObserved>;
  Lane l[G];
  Lane* p[G];
  long common = -1;
  for (int g = 0; g < G; ++g) {
    l[g] = lane_of(*jobs[g]);
    p[g] = &l[g];
    common = common < 0 ? l[g].n : std::min(common, l[g].n);
  }
  run<kKnown, kAzuma, kObserved, G>(p, 0, common);
  for (int g = 0; g < G; ++g) {
    run<kKnown, kAzuma, kObserved, 1>(p + g, common, l[g].n);
    SlotSums& o = *jobs[g]->out;
    o = SlotSums{l[g].acc[0], l[g].acc[1]};
    if constexpr (kKnown) o.sum = l[g].acc[Lay::known], o.abs = l[g].acc[Lay::known + 1], o.rest = l[g].acc[Lay::known + 2];
    if constexpr (kAzuma) o.variance = l[g].acc[Lay::azuma], o.azuma_rest = l[g].acc[Lay::azuma + 1];
    if constexpr (kObserved) o.observed = l[g].acc[Lay::observed];
  }
}

int kind(const SlotJob& j) { return (j.in.known ? 4 : 0) + (j.in.q ? 2 : 0) + (j.in.observed ? 1 : 0); }

/// The jobs [0, n) of one kind, four (or two, for the kinds with more sums) at a time.
template <bool kKnown, bool kAzuma, bool kObserved>
void of_kind(const SlotJob* const* jobs, std::size_t n) {
  constexpr int G = Layout<kKnown, kAzuma, kObserved>::count > 4 ? 2 : 4;
  std::size_t i = 0;
  for (; i + G <= n; i += G) lanes<kKnown, kAzuma, kObserved, G>(jobs + i);
  if (G == 4 && i + 2 <= n) {
    lanes<kKnown, kAzuma, kObserved, 2>(jobs + i);
    i += 2;
  }
  for (; i < n; ++i) lanes<kKnown, kAzuma, kObserved, 1>(jobs + i);
}

}  // namespace

void slot_sums(std::span<const SlotJob> jobs) {
  // By kind, then by length: slots side by side share the most elements.
  thread_local std::vector<const SlotJob*> order;
  order.clear();
  for (const SlotJob& j : jobs) order.push_back(&j);
  std::stable_sort(order.begin(), order.end(), [](const SlotJob* a, const SlotJob* b) {
    const int ka = kind(*a), kb = kind(*b);
    return ka != kb ? ka < kb : a->in.l_det->size() < b->in.l_det->size();
  });
  for (std::size_t i = 0; i < order.size();) {
    const int k = kind(*order[i]);
    std::size_t e = i;
    while (e < order.size() && kind(*order[e]) == k) ++e;
    const SlotJob* const* first = order.data() + i;
    switch (k) {
      case 0: of_kind<false, false, false>(first, e - i); break;
      case 1: of_kind<false, false, true>(first, e - i); break;
      case 2: of_kind<false, true, false>(first, e - i); break;
      case 3: of_kind<false, true, true>(first, e - i); break;
      case 4: of_kind<true, false, false>(first, e - i); break;
      case 5: of_kind<true, false, true>(first, e - i); break;
      case 6: of_kind<true, true, false>(first, e - i); break;
      default: of_kind<true, true, true>(first, e - i); break;
    }
    i = e;
  }
}

}  // namespace fpaudit::margin
