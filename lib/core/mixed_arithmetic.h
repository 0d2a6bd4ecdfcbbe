// A mixed chain, "fp16+fp32:LayerNormalization,/head/Gemm": the selected nodes run in the kept
// chain's arithmetic (storage, accumulation and schedule), every other node in the base chain's.
// Values cross between the two as a Cast would: a value is held in the storage format of the
// node that produced it, and a node whose storage differs rounds it into its own before use
// (shadow/plan.h, Activations::run_layer); the bound rules count that rounding as an input error
// of the consuming node (theory/mixed-chains.md). Graph inputs and constants have no producer:
// they are held in the kept storage when some kept node reads them, else in the base storage.
//
// As an Arithmetic it is the base chain (name, formats, every operation), so code that asks
// nothing per node sees the base chain; at(node) and model_at(node) give each node its own.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include "core/arithmetic.h"

namespace fpaudit {

struct Graph;

class MixedArithmetic : public Arithmetic {
 public:
  explicit MixedArithmetic(const ChainSpec& spec);

  const ChainSpec& spec() const { return spec_; }
  const Arithmetic& base() const { return *base_; }
  const Arithmetic& kept() const { return *kept_; }
  bool keeps(const Node& node) const;
  /// The arithmetic node runs in.
  const Arithmetic& at(const Node& node) const { return keeps(node) ? *kept_ : *base_; }
  const bounds::ArithmeticModel& model_at(const Node& node) const { return keeps(node) ? kept_model_ : base_model_; }

  std::string_view name() const override { return spec_.name; }
  const Format& storage() const override { return base_->storage(); }
  const Format& accumulator() const override { return base_->accumulator(); }
  DotSchedule schedule() const override { return base_->schedule(); }
  /// The base chain's model, marked mixed: bound_layer (shadow/apriori.h) takes each node's own.
  bounds::ArithmeticModel rounding_model() const override;
  double round(double exact, Target t) const override { return base_->round(exact, t); }
  void round_storage(std::span<double> values) const override { base_->round_storage(values); }
  double add(double a, double b, Target t) const override { return base_->add(a, b, t); }
  double sub(double a, double b, Target t) const override { return base_->sub(a, b, t); }
  double mul(double a, double b, Target t) const override { return base_->mul(a, b, t); }
  double div(double a, double b, Target t) const override { return base_->div(a, b, t); }
  double fma(double a, double b, double c, Target t) const override { return base_->fma(a, b, c, t); }
  double unary(UnaryFn f, double x, Target t) const override { return base_->unary(f, x, t); }
  double pow(double x, double e, Target t) const override { return base_->pow(x, e, t); }
  double sum(const double* x, std::ptrdiff_t inc, long n) const override { return base_->sum(x, inc, n); }
  double dot(const double* x, std::ptrdiff_t incx, const double* w, std::ptrdiff_t incw, long n) const override {
    return base_->dot(x, incx, w, incw, n);
  }
  void gemm(const GemmArgs& g) const override { base_->gemm(g); }
  bool gemm_batch_layouts() const override { return base_->gemm_batch_layouts(); }
  const MixedArithmetic* mixed() const override { return this; }

 private:
  ChainSpec spec_;
  std::unique_ptr<Arithmetic> base_, kept_;
  bounds::ArithmeticModel base_model_, kept_model_;
  std::unordered_set<std::string> selectors_;
};

/// The arithmetic that node runs in under a: a's own, or for a mixed chain the node's.
inline const Arithmetic& arithmetic_at(const Arithmetic& a, const Node& node) {
  const MixedArithmetic* m = a.mixed();
  return m ? m->at(node) : a;
}

/// Checks a mixed chain's selectors against the model and fills spec.kept_summary; every
/// selector must name an operator type or a node of `graph`. Throws std::invalid_argument
/// "no node or operator type 'S' in MODEL". A plain chain is left as it is.
void resolve_kept(ChainSpec& spec, const Graph& graph);
/// The arithmetic text's addition for a mixed chain: "kept in binary32: 3 nodes (...)".
std::string kept_text(const ChainSpec& spec);

}  // namespace fpaudit
