// The test oracle: MPFR computing in a format's precision and exponent range, with subnormals
// (mpfr_subnormalize), as an independent implementation of "the correctly rounded result".
#pragma once

#include <mpfr.h>

#include "format/round.h"

namespace fpaudit::testing {

enum class Op { Add, Sub, Mul, Div, Sqrt, Fma, Convert };

/// MPFR's answer for op(a, b, c) correctly rounded into f, with the ternary value MPFR reports.
/// Operands are binary64 values (format values, or anything for Op::Convert).
struct OracleResult { double value; int ternary; };
OracleResult mpfr_oracle(const Format& f, Op op, Round mode, double a, double b = 0, double c = 0);
/// Rounds an arbitrary MPFR number into f.
OracleResult mpfr_oracle_round(const Format& f, mpfr_srcptr x, Round mode);

mpfr_rnd_t to_mpfr(Round mode);

/// Bitwise identity of two results: same NaN-ness, else same value and the same sign of zero.
bool same_value(double a, double b);

}  // namespace fpaudit::testing
