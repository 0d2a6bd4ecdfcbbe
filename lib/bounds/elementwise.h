// Bound rules of the elementwise operators, one element at a time: theory/elementwise.md.
//
// Every rule bounds |y_c - ȳ| where y_c is what the chain computes from its own operand values
// x_c (known only through an enclosure lo ≤ x_c ≤ hi) and ȳ the exact operator applied to the
// exact network's operands x̄ (|x_c - x̄| ≤ err). It splits, by the triangle inequality, into
//     local:        |y_c - f(x_c)|       the operator's own roundings at the chain's operands
//     propagation:  |f(x_c) - f(x̄)|      the operand errors carried through the exact f
// and bounds each over the whole enclosure, so one rule serves the audit (lo = hi = x_c) and the
// a-priori certificate (lo < hi).
#pragma once

#include <cstdint>

#include "bounds/model.h"
#include "bounds/transfer.h"

namespace fpaudit::bounds {

/// One operand element: lo ≤ x_c ≤ hi and |x_c - x̄| ≤ err.
struct Operand {
  double lo = 0, hi = 0, err = 0;
  double magnitude() const { return (lo < 0 ? -lo : lo) > (hi < 0 ? -hi : hi) ? (lo < 0 ? -lo : lo) : (hi < 0 ? -hi : hi); }
};
/// Element i of an enclosure, with its deterministic (prob = false) or probabilistic error.
inline Operand operand_at(const Enclosure& e, long i, bool prob) {
  return {e.lo->data[i], e.hi->data[i], prob ? e.err_prob->data[i] : e.err->data[i]};
}

// ---- functions rounded from their binary64 value (Arithmetic::unary) --------------------

/// y = round_T(f_64(x)): Exp, Log, Tanh, Sigmoid, Erf, Gelu, Sqrt, Reciprocal, Rsqrt.
double unary_fn_bound(const ArithmeticModel& m, UnaryFn f, Operand x, Target t = Target::Storage);
/// Gelu with approximate="tanh": y = round_S(g(x)), g the binary64 evaluation of
/// x/2·(1 + tanh(√(2/π)(x + 0.044715x³))) in the kernel's order.
double gelu_tanh_bound(const ArithmeticModel& m, Operand x);

// ---- piecewise-linear functions of one operand ------------------------------------------

/// LeakyRelu: x ≥ 0 ? x : round_S(alpha·x), alpha the binary64 attribute.
double leaky_relu_bound(const ArithmeticModel& m, Operand x, double alpha);
/// HardSigmoid: clamp(round_S(RN64(alpha·x) + beta), 0, 1).
double hard_sigmoid_bound(const ArithmeticModel& m, Operand x, double alpha, double beta);
/// HardSwish: round_S(x · clamp(round_S(RN64(x/6) + 1/2), 0, 1)) with 1/6 its binary64 value.
double hard_swish_bound(const ArithmeticModel& m, Operand x);
/// Clip at [lo, hi] (the chain clips at its own rounding of lo and hi): no rounding of its own.
double clip_bound(const ArithmeticModel& m, Operand x, double lo, double hi);

// ---- operators of two operands (numpy broadcasting is the kernel's business) -------------

/// Add (subtract = false) and Sub: round_S(x ± z).
double add_bound(const ArithmeticModel& m, Operand x, Operand z, bool subtract);
/// Mul: round_S(x·z).
double mul_bound(const ArithmeticModel& m, Operand x, Operand z);
/// Div: round_S(x/z).
double div_bound(const ArithmeticModel& m, Operand x, Operand z);
/// Pow: x^e, e the exponent operand (Arithmetic::pow: exponents 2, 1, 1/2, -1 correctly rounded,
/// others round_S(pow_64(x, e))).
double pow_bound(const ArithmeticModel& m, Operand x, Operand e);
/// PRelu: x ≥ 0 ? x : round_S(slope·x).
double prelu_bound(const ArithmeticModel& m, Operand x, Operand slope);

// ---- the same rules over a row of outputs --------------------------------------------------

/// The rules of two operands above, by name.
enum class BinaryRuleOp { Add, Sub, Mul, Div, Pow, PRelu };
/// One operand of a row: element j is lo[j·step], hi[j·step], err[j·step] (step 0: one element
/// broadcast along the row).
struct OperandRow {
  const double* lo;
  const double* hi;
  const double* err;
  std::int64_t step;
};
/// out[j] = the rule of `op` at (x_j, z_j) for j < n: bit for bit the one-element functions'
/// values, in one call per row so that the rule is inlined into the loop (a broadcast side is
/// read once) instead of called per element.
void binary_bound_row(BinaryRuleOp op, const ArithmeticModel& m, OperandRow x, OperandRow z, std::int64_t n, double* out);

}  // namespace fpaudit::bounds
