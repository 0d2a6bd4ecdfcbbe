// The widening of the a-priori pass (theory/a-priori-certificate.md): a value's enclosure
// [x_ref − (E + R), x_ref + (E + R)], rounded outward, or the whole line where it may pass the
// storage format's largest finite value. The a-priori pass widens every layer output twice (its
// deterministic and probabilistic bounds), and the margin pass widens them again each time a
// backward step reads a box, so this runs over every activation several times per sample.
#pragma once

#include <cmath>

#include "bounds/transfer.h"
#include "core/rounding_model.h"

namespace fpaudit {

/// One element: the definition. r = E + R rounded up (an exact zero stays zero, so a point stays
/// a point), lo and hi rounded outward; where the format does not saturate and max(−lo, hi) is
/// not below max_finite (or is NaN), the chain's value may have overflowed: E = +Inf and the box
/// is the whole line.
inline void widen_one(double ref, double ref_err, double& e, double& lo, double& hi, bool saturates, double max_finite) {
  const double r = bounds::up_sum(e + ref_err);
  const double l = bounds::down_sum(ref - r), h = bounds::up_sum(ref + r);
  const bool overflow = !saturates && !(bounds::max_num(-l, h) < max_finite);
  e = overflow ? INFINITY : e;
  lo = overflow ? -INFINITY : l;
  hi = overflow ? INFINITY : h;
}

/// widen_one over n elements (e is updated in place), in AVX-512 or AVX2 lanes where the CPU has
/// them and FPAUDIT_ISA allows (common/cpu_features.h): every lane takes the same IEEE operations
/// as widen_one, with selects for its branches, so every path gives the same bits.
void widen_enclosures(const double* ref, const double* ref_err, double* e, double* lo, double* hi, long n, bool saturates,
                      double max_finite);

}  // namespace fpaudit
