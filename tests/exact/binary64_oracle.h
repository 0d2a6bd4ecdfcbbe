// MPFR as the independent judge of exact sums and dot products: every product is formed
// exactly (106-bit MPFR numbers hold any product of two binary64 values), mpfr_sum adds them
// with one correct rounding, and MPFR's documented emulation of IEEE binary64 (exponent range
// narrowed to binary64's, mpfr_check_range, mpfr_subnormalize with the ternary value) gives
// gradual underflow and overflow without double rounding. No code of lib/exact is used.
#pragma once

#include <span>

#include <mpfr.h>

namespace fpaudit::testing {

/// The exact value held by x rounded to nearest binary64 (subnormals, overflow to ±Inf).
double binary64_nearest(mpfr_srcptr x);
/// Same for an already rounded x whose rounding had ternary value inex (avoids double rounding).
double binary64_nearest(mpfr_ptr x, int inex);

/// Σ x_i·w_i + bias, exact, rounded once to nearest binary64.
double oracle_dot(std::span<const double> x, std::span<const double> w, double bias);
/// Σ x_i, exact, rounded once to nearest binary64 (+0 when empty).
double oracle_sum(std::span<const double> x);
/// Σ x_i·w_i + bias rounded into out (its precision) in mode rnd; MPFR's ternary value.
int oracle_dot_round(mpfr_ptr out, mpfr_rnd_t rnd, std::span<const double> x, std::span<const double> w, double bias);

}  // namespace fpaudit::testing
