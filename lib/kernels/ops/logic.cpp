// Comparisons (Equal, Greater, GreaterOrEqual, Less, LessOrEqual), logic (Not, And, Or, Xor)
// and Where, on runtime data with numpy broadcasting. Booleans are held as 0 and 1, exact in
// every storage format, so every arithmetic computes the same thing: nothing is rounded.
//
// Bounds. A comparison's output does not carry its inputs' error: a tiny input error can flip
// it, and then the output moves by a whole 1. The rule (comparison_bound) is 0 where no flip is
// possible (a - b keeps the predicate's truth over everything the input bounds allow) and 1
// otherwise, which is exact for a 0/1 output: it says "this element may be flipped" honestly
// instead of passing a small number on. The logic operators are exact unless an input may be
// flipped, and Where selects the wrong branch only when its condition may be flipped. The rules
// (comparison_bound, logic_bound, where_bound) live in lib/bounds/rules/runtime_select.cpp.
#include "core/ops/step_functions.h"
#include "core/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y = f(x0, x1, ...) over the broadcast shape.
class Broadcasting : public OpKernel {
 public:
  using Fn = double (*)(const double* v);
  Broadcasting(const OpContext& ctx, Fn f, std::size_t arity)
      : f_(f), arity_(arity), bc_(ctx.input_shapes, ctx.output_shapes.at(0)) {}
  void run(const Arithmetic&, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double>& y = out[0]->data;
    double v[3];
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      for (std::size_t i = 0; i < arity_; ++i) v[i] = in[i]->data[off[i]];
      y[o] = f_(v);
    });
  }
  bool exact() const override { return true; }
 private:
  Fn f_;
  std::size_t arity_;
  Broadcast bc_;
};

// ---- comparisons ---------------------------------------------------------------------------

using step::Cmp;  // core/ops/step_functions.h: the bound rules evaluate the same predicates
using step::holds;

template <Cmp C>
double compare(const double* v) { return holds<C>(v[0], v[1]) ? 1.0 : 0.0; }

// ---- logic on 0/1 values -------------------------------------------------------------------

double logical_not(const double* v) { return v[0] != 0 ? 0.0 : 1.0; }
double logical_and(const double* v) { return v[0] != 0 && v[1] != 0 ? 1.0 : 0.0; }
double logical_or(const double* v) { return v[0] != 0 || v[1] != 0 ? 1.0 : 0.0; }
double logical_xor(const double* v) { return (v[0] != 0) != (v[1] != 0) ? 1.0 : 0.0; }

// ---- Where ---------------------------------------------------------------------------------

double where(const double* v) { return v[0] != 0 ? v[1] : v[2]; }

OpFactory broadcasting(Broadcasting::Fn f, std::size_t arity) {
  return [=](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Broadcasting>(ctx, f, arity); };
}

}  // namespace

void register_logic_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Equal", broadcasting(compare<Cmp::Equal>, 2)});
  r.push_back({"Greater", broadcasting(compare<Cmp::Greater>, 2)});
  r.push_back({"GreaterOrEqual", broadcasting(compare<Cmp::GreaterOrEqual>, 2)});
  r.push_back({"Less", broadcasting(compare<Cmp::Less>, 2)});
  r.push_back({"LessOrEqual", broadcasting(compare<Cmp::LessOrEqual>, 2)});
  r.push_back({"Not", broadcasting(logical_not, 1)});
  r.push_back({"And", broadcasting(logical_and, 2)});
  r.push_back({"Or", broadcasting(logical_or, 2)});
  r.push_back({"Xor", broadcasting(logical_xor, 2)});
  r.push_back({"Where", broadcasting(where, 3)});
}

}  // namespace fpaudit::ops
