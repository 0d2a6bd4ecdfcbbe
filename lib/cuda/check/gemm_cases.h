// The GEMM inputs of `fpaudit kernels --check`, and the host side of each comparison. Every
// case holds binary16 values (as floats, exactly); each is built to exercise one thing:
//   exact-integers    every partial sum an exact small integer: any order, any accumulator
//                     gives the exact value, so a difference is an indexing bug, not arithmetic
//   random-*          normal data of several shapes (edges not multiples of any tile)
//   wide-exponents    products spread over 2^-28 .. 2^12
//   cancellation      pairs a, −a(1 + ε): large terms cancel, small ones decide
//   hfma-ties         2048 + 1 + 1 + ...: every binary16 step is a tie (hand-worked in tests)
//   alignment         one product near 1 among products near 2^-23: the tensor-core
//                     alignment cut, the block boundaries and extra bits all change results
//   subnormals        binary16 subnormal operands and subnormal partial sums
//   overflow          sums past 65504: ±Inf in binary16, finite in binary32
// The host computes each kernel's expected bits with gemm_float_scalar (the chains' own
// kernel), and the exact result and error bound with exact::dot and lib/bounds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/gemm_float.h"
#include "core/schedule.h"

namespace fpaudit::cuda::check {

struct GemmCase {
  std::string name;
  long M = 0, N = 0, K = 0;
  std::vector<float> W, X, bias;  ///< M×K, K×N, M (binary16 values; bias may be empty)
};

/// The cases, from a seed (deterministic).
std::vector<GemmCase> gemm_cases(std::uint64_t seed);

/// The binary16 bit patterns of a case's values, as the kernels take them.
std::vector<std::uint16_t> to_binary16(const std::vector<float>& v);

/// The host's result of the case (bias included) for one accumulator policy and schedule:
/// what the chain computes, in the accumulator format, M×N.
std::vector<float> host_gemm(const GemmCase& c, kernels::AccPolicy policy, const DotSchedule& s);

/// The error bound of output (m, n) for a sum in accumulation unit roundoff u_acc (underflow
/// term eta_acc) under schedule s, plus the bias addition (bounds/linear.cpp's rule), and the
/// exact error |computed − exact| of a computed value. Both in binary64.
struct BoundCheck {
  double error = 0, bound = 0;
};
BoundCheck bound_check(const GemmCase& c, long m, long n, float computed, const DotSchedule& s, double u_acc, double eta_acc);

}  // namespace fpaudit::cuda::check
