// Elementwise operators of two or more inputs with numpy broadcasting: one rounding per output
// element (Add, Sub, Mul, Div, Pow, PRelu) or an exact selection (Min, Max).
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "core/ops/broadcast.h"
#include "kernels/ops/ops.h"

namespace fpaudit::ops {

namespace {

/// y = f(x0, x1, ...) over the broadcast shape, folding left to right for n-ary Min/Max.
class Nary : public OpKernel {
 public:
  using Fn = std::function<double(const Arithmetic&, double, double)>;
  /// op: Add, Sub, Mul or Div of two inputs, which Arithmetic::binary runs a row at a time.
  /// power: Pow, whose square (exponent 2, the exported LayerNorm's variance) runs as Mul.
  Nary(const OpContext& ctx, Fn f, bool exact, std::optional<BinaryOp> op = std::nullopt, bool power = false)
      : f_(std::move(f)), exact_(exact), bc_(ctx.input_shapes, ctx.output_shapes.at(0)), op_(op), power_(power) {}
  void run(const Arithmetic& a, std::span<const Tensor* const> in, std::span<Tensor* const> out) const override {
    std::vector<double>& y = out[0]->data;
    if (power_ && in.size() == 2 && std::all_of(in[1]->data.begin(), in[1]->data.end(), [](double e) { return e == 2.0; })) {
      // x^2 = x·x in every arithmetic: the chains' pow takes e = 2 as mul, the references round
      // x² once either way (tests/kernels/chain_rounding_test.cpp). A row of Mul at a time.
      const double* x = in[0]->data.data();
      bc_.for_each_row([&](std::int64_t o, std::int64_t length, const std::int64_t* off, const std::int64_t* step) {
        a.binary(BinaryOp::Mul, x + off[0], step[0], x + off[0], step[0], y.data() + o, length);
      });
      return;
    }
    if (op_ && in.size() == 2) {
      const double *x = in[0]->data.data(), *w = in[1]->data.data();
      bc_.for_each_row([&](std::int64_t o, std::int64_t length, const std::int64_t* off, const std::int64_t* step) {
        a.binary(*op_, x + off[0], step[0], w + off[1], step[1], y.data() + o, length);
      });
      return;
    }
    bc_.for_each([&](std::int64_t o, const std::int64_t* off) {
      double v = in[0]->data[off[0]];
      for (std::size_t i = 1; i < in.size(); ++i) v = f_(a, v, in[i]->data[off[i]]);
      y[o] = v;
    });
  }
  bool exact() const override { return exact_; }

 private:
  Fn f_;
  bool exact_;
  Broadcast bc_;
  std::optional<BinaryOp> op_;
  bool power_;
};

/// Min/Max propagate NaN (std::fmin would drop it).
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : (b < a ? b : a); }
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : (b > a ? b : a); }

template <class F>
OpFactory rounded(F f, std::optional<BinaryOp> op = std::nullopt) {
  return [f, op](const OpContext& ctx) -> std::unique_ptr<OpKernel> { return std::make_unique<Nary>(ctx, f, false, op); };
}

}  // namespace

void register_binary_ops(std::vector<OpRegistration>& r) {
  r.push_back({"Add", rounded([](const Arithmetic& a, double x, double y) { return a.add(x, y); }, BinaryOp::Add)});
  r.push_back({"Sub", rounded([](const Arithmetic& a, double x, double y) { return a.sub(x, y); }, BinaryOp::Sub)});
  r.push_back({"Mul", rounded([](const Arithmetic& a, double x, double y) { return a.mul(x, y); }, BinaryOp::Mul)});
  r.push_back({"Div", rounded([](const Arithmetic& a, double x, double y) { return a.div(x, y); }, BinaryOp::Div)});
  r.push_back({"Pow", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<Nary>(ctx, [](const Arithmetic& a, double x, double e) { return a.pow(x, e); }, false,
                                               std::nullopt, true);
               }});
  r.push_back({"PRelu", rounded([](const Arithmetic& a, double x, double slope) {
                 return std::isnan(x) || x >= 0 ? x : a.mul(slope, x);
               })});
  r.push_back({"Min", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<Nary>(ctx, [](const Arithmetic&, double x, double y) { return nan_min(x, y); }, true);
               }});
  r.push_back({"Max", [](const OpContext& ctx) -> std::unique_ptr<OpKernel> {
                 return std::make_unique<Nary>(ctx, [](const Arithmetic&, double x, double y) { return nan_max(x, y); }, true);
               }});
}

}  // namespace fpaudit::ops
