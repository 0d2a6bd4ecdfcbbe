// Comparisons (Equal, Greater, GreaterOrEqual, Less, LessOrEqual), logic (Not, And, Or, Xor)
// and Where, on runtime data with numpy broadcasting. Booleans are held as 0 and 1, exact in
// every storage format, so every arithmetic computes the same thing: nothing is rounded.
//
// Bounds. A comparison's output does not carry its inputs' error: a tiny input error can flip
// it, and then the output moves by a whole 1. The rule (comparison_bound) is 0 where no flip is
// possible (a - b keeps the predicate's truth over everything the input bounds allow) and 1
// otherwise, which is exact for a 0/1 output: it says "this element may be flipped" honestly
// instead of passing a small number on. The logic operators are exact unless an input may be
// flipped, and Where selects the wrong branch only when its condition may be flipped.
#include <cmath>

#include "bounds/elementwise.h"
#include "kernels/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y = f(x0, x1, ...) over the broadcast shape with a bound rule of the operand elements.
class Broadcasting : public OpKernel {
 public:
  using Fn = double (*)(const double* v);
  using Rule = double (*)(const bounds::Operand* v);
  Broadcasting(const OpContext& ctx, Fn f, Rule rule, std::size_t arity)
      : f_(f), rule_(rule), arity_(arity), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double>& y = out[0]->data;
    double v[3];
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      for (std::size_t i = 0; i < arity_; ++i) v[i] = in[i]->data[off[i]];
      y[o] = f_(v);
    });
  }
  bool exact() const override { return true; }
  void bound(const bounds::BoundRequest& r) const override {
    bounds::Operand v[3];
    for (const bool prob : {false, true}) {
      Tensor& b = prob ? *r.prob[0] : *r.det[0];
      bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
        for (std::size_t i = 0; i < arity_; ++i) v[i] = bounds::operand_at(r.inputs[i], off[i], prob);
        b.data[o] = rule_(v);
      });
    }
    if (r.failure_probability) *r.failure_probability = 0;
  }

 private:
  Fn f_;
  Rule rule_;
  std::size_t arity_;
  Broadcast bc_;
};

// ---- comparisons ---------------------------------------------------------------------------

enum class Cmp { Equal, Greater, GreaterOrEqual, Less, LessOrEqual };

template <Cmp C>
bool holds(double a, double b) {
  if constexpr (C == Cmp::Equal) return a == b;
  if constexpr (C == Cmp::Greater) return a > b;
  if constexpr (C == Cmp::GreaterOrEqual) return a >= b;
  if constexpr (C == Cmp::Less) return a < b;
  return a <= b;
}

template <Cmp C>
double compare(const double* v) { return holds<C>(v[0], v[1]) ? 1.0 : 0.0; }

/// 0 where a op b cannot be flipped, 1 where it can. With no input error the chain compares
/// the exact operands. Otherwise a_c - b_c and ā - b̄ both lie in
/// D = [a.lo - b.hi - e, a.hi - b.lo + e], e = a.err + b.err (computed with outward
/// rounding); the comparison is certain when "d op 0" has one truth value over all of D.
template <Cmp C>
double comparison_bound(const bounds::Operand* v) {
  const bounds::Operand& a = v[0];
  const bounds::Operand& b = v[1];
  if (a.err == 0 && b.err == 0) return 0;
  const double e = bounds::up(a.err + b.err);
  const double lo = bounds::down(bounds::down(a.lo - b.hi) - e);
  const double hi = bounds::up(bounds::up(a.hi - b.lo) + e);
  if (!(lo <= hi)) return 1;  // NaN or infinite operands: no certainty
  return holds<C>(lo, 0.0) == holds<C>(hi, 0.0) && (C != Cmp::Equal || lo > 0 || hi < 0) ? 0.0 : 1.0;
}

// ---- logic on 0/1 values -------------------------------------------------------------------

double logical_not(const double* v) { return v[0] != 0 ? 0.0 : 1.0; }
double logical_and(const double* v) { return v[0] != 0 && v[1] != 0 ? 1.0 : 0.0; }
double logical_or(const double* v) { return v[0] != 0 || v[1] != 0 ? 1.0 : 0.0; }
double logical_xor(const double* v) { return (v[0] != 0) != (v[1] != 0) ? 1.0 : 0.0; }

/// Two 0/1 values closer than 1 are equal: an input with err < 1 is the exact one. The output
/// is then exact, and otherwise it may differ by 1.
template <std::size_t N>
double logic_bound(const bounds::Operand* v) {
  for (std::size_t i = 0; i < N; ++i)
    if (!(v[i].err < 1)) return 1;
  return 0;
}

// ---- Where ---------------------------------------------------------------------------------

double where(const double* v) { return v[0] != 0 ? v[1] : v[2]; }

/// The condition certain (err < 1) and known (lo = hi): the selected branch's bound; certain
/// but unknown (an a-priori enclosure): either branch's. Possibly flipped: the chain may take
/// x_c where the exact network takes ȳ, and |x_c - ȳ| ≤ |x_c - y_c| + |y_c - ȳ|, with
/// |x_c - y_c| ≤ max(x.hi - y.lo, y.hi - x.lo); the same with x and y exchanged.
double where_bound(const bounds::Operand* v) {
  const bounds::Operand &c = v[0], &x = v[1], &y = v[2];
  const double either = std::fmax(x.err, y.err);
  if (c.err < 1) {
    if (c.lo == c.hi) return bounds::nan_to_inf(c.lo != 0 ? x.err : y.err);
    return bounds::nan_to_inf(either);
  }
  const double apart = std::fmax(bounds::up(x.hi - y.lo), bounds::up(y.hi - x.lo));
  return bounds::nan_to_inf(bounds::up(either + apart));
}

OpFactory broadcasting(Broadcasting::Fn f, Broadcasting::Rule rule, std::size_t arity) {
  return [=](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Broadcasting>(ctx, f, rule, arity); };
}

}  // namespace

void register_logic_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Equal", broadcasting(compare<Cmp::Equal>, comparison_bound<Cmp::Equal>, 2)});
  r.push_back({"Greater", broadcasting(compare<Cmp::Greater>, comparison_bound<Cmp::Greater>, 2)});
  r.push_back({"GreaterOrEqual", broadcasting(compare<Cmp::GreaterOrEqual>, comparison_bound<Cmp::GreaterOrEqual>, 2)});
  r.push_back({"Less", broadcasting(compare<Cmp::Less>, comparison_bound<Cmp::Less>, 2)});
  r.push_back({"LessOrEqual", broadcasting(compare<Cmp::LessOrEqual>, comparison_bound<Cmp::LessOrEqual>, 2)});
  r.push_back({"Not", broadcasting(logical_not, logic_bound<1>, 1)});
  r.push_back({"And", broadcasting(logical_and, logic_bound<2>, 2)});
  r.push_back({"Or", broadcasting(logical_or, logic_bound<2>, 2)});
  r.push_back({"Xor", broadcasting(logical_xor, logic_bound<2>, 2)});
  r.push_back({"Where", broadcasting(where, where_bound, 3)});
}

}  // namespace fpaudit::ops
