// What every MPFR-backed reference function needs: per-thread scratch variables (no mpfr_init
// per call), a known MPFR environment (the widest exponent range, the caller's flags kept),
// and the one rounding step from an MPFR result to binary64.
//
// Rounding to binary64 goes through round-to-odd: a result computed toward zero at 64 bits,
// with its last bit forced to 1 when inexact, rounds to nearest binary64 exactly as the exact
// value would (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
// algorithms using rounding to odd", IEEE TC 57(4), 2008: rounding to odd at p + k bits, k ≥ 2,
// then to nearest at p bits equals rounding to nearest directly; binary64's subnormals are a
// coarser grid of the same kind, theory/reference-arithmetic.md §5). mpfr_get_d then rounds
// the odd value correctly, subnormals included.
//
// Threading: MPFR must be built thread-safe (Debian's is: mpfr_buildopt_tls_p() is true), so
// its exponent range, flags and constant caches are per thread; the scratch here is
// thread_local. Any number of threads may call these functions at once.
#pragma once

#include <mpfr.h>

#include "exact/certified.h"
#include "exact/fp_environment.h"

namespace fpaudit::exact::detail {

/// For its lifetime: MPFR's widest exponent range in this thread, the caller's range and
/// flags restored afterwards, and the default binary64 environment (mpfr_get_d builds its
/// result with binary64 operations). Results of double arguments then never under- or
/// overflow inside MPFR (unless stated), whatever range the caller had set.
class MpfrEnvironment {
 public:
  MpfrEnvironment();
  ~MpfrEnvironment();
  MpfrEnvironment(const MpfrEnvironment&) = delete;
  MpfrEnvironment& operator=(const MpfrEnvironment&) = delete;

 private:
  DefaultFloatingPointEnvironment fp_env_;
  mpfr_exp_t emin_, emax_;
  mpfr_flags_t flags_;
};

/// Per-thread MPFR variables, initialised once per thread. Functions set the precision they
/// need (mpfr_set_prec reallocates only when growing past what was allocated before).
struct MpfrScratch {
  mpfr_t arg;     ///< the binary64 argument, exactly (53 bits)
  mpfr_t result;  ///< a 64-bit result rounded toward zero
  mpfr_t t[4];    ///< working variables of the Ziv loops
  mpfr_t lo, hi;  ///< an enclosure of the exact value

  MpfrScratch();
  ~MpfrScratch();
  MpfrScratch(const MpfrScratch&) = delete;
  MpfrScratch& operator=(const MpfrScratch&) = delete;
};
MpfrScratch& scratch();

/// RN to binary64 of the exact value whose rounding toward zero at 64 bits is rz64 (modified)
/// with MPFR ternary value ternary; bound 0 when the exact value is a binary64 number.
Certified binary64_from_rz64(mpfr_ptr rz64, int ternary);

/// The binary64 argument as an exact 53-bit MPFR number (the scratch's arg).
mpfr_ptr exact_arg(double x);

}  // namespace fpaudit::exact::detail
