// The binary64 formulas of the elementwise functions the chains round from (docs/chain-semantics:
// y = round_S(f_64(x))), host and device (FPAUDIT_HD). On the host the calls below are glibc's
// exp, tanh and erfc; on the device CUDA's. Both are within a couple of binary64 ulps of the
// true value, so the rounded binary16 results agree unless a true value lies within a few
// 2^-53 (relative) of a binary16 rounding boundary; `fpaudit kernels --check` compares all
// 65,536 binary16 inputs. Evaluation order is fixed by the source and neither compiler fuses
// (-ffp-contract=off, -fmad=false).
#pragma once

#include <cmath>

#include "common/hd.h"

namespace fpaudit {

FPAUDIT_HD inline double sigmoid64(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
/// x/2·erfc(−x/√2), the exact GELU written with erfc so that it stays accurate for x ≪ 0.
FPAUDIT_HD inline double gelu64(double x) { return 0.5 * x * erfc(-x * 0.70710678118654752440); }
FPAUDIT_HD inline double tanh64(double x) { return tanh(x); }

}  // namespace fpaudit
