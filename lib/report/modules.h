// Layers grouped into the modules they came from, so a 150-layer transformer reads as its 60
// modules (a LayerNorm, a GELU, an attention core, a linear layer) instead of nine separate
// ReduceMean/Sub/Pow/... operators. Two sources, in this order:
//   1. node-name prefixes: consecutive layers named "/blocks/blocks.0/norm1/Sub",
//      "/blocks/blocks.0/norm1/Pow", ... form the module "/blocks/blocks.0/norm1";
//   2. operator patterns, for layers whose names carry no shared prefix: the LayerNorm
//      (ReduceMean Sub Pow ReduceMean Add Sqrt Div [Mul Add]), the erf GELU (Div Erf Add Mul
//      Mul in any order) and the attention core ([Transpose] MatMul [Mul|Div|Add]... Softmax
//      MatMul) as exporters write them, consecutive in the plan.
// A module's kind names the pattern its operators form, whichever way it was found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/audit_document.h"

namespace fpaudit {

struct Module {
  std::string name;         ///< the shared prefix, or the first layer's name for a pattern or a single layer
  std::string kind;         ///< "LayerNorm", "GELU", "attention", "linear", or the operators ("Conv", "Div+Erf")
  std::vector<int> layers;  ///< positions in AuditDocument::layers, consecutive, in plan order
};

/// The modules of a layer list, in plan order; every layer is in exactly one module.
std::vector<Module> group_modules(const std::vector<LayerView>& layers);

/// The kind of a group of operators (see Module::kind).
std::string module_kind(const std::vector<std::string>& ops);

/// One module in one chain. How each figure is aggregated over the module's layers, and why:
///  - local ‖rel‖: the LARGEST local normwise error of its computing layers. Each local error is
///    measured on its own (reference input, rounded), relative to a different tensor; relative
///    errors of different tensors do not add, and no module-level local error is measured, so
///    the maximum (naming its layer) is what can be said.
///  - propagated abs / ‖rel‖: those of its OUTPUT layer (the last): what the module hands on.
///    An inner layer's propagated error is relative to an intermediate (x − mean, x²) whose scale
///    says nothing about the module's result.
///  - det. ratios (local, propagated): the largest over its layers; violations: their sum (each
///    is a distinct element checked against its own bound).
///  - inf/nan: the largest count of any one layer (a summed count would count one overflow
///    again in every layer it flows through); headroom: the smallest over its layers.
struct ModuleStats {
  double local_rel = 0;  ///< largest local ‖rel‖ max of a computing layer; 0 when none measured
  int local_layer = -1;  ///< the layer it comes from (position in doc.layers), -1 when none
  bool computes = false;  ///< has a layer that is not exact (data movement only otherwise)
  bool propagated_measured = false;
  double propagated_abs = 0, propagated_rel = 0;  ///< of the output layer
  bool local_bounded = false, propagated_bounded = false;
  double local_ratio = 0, propagated_ratio = 0;  ///< largest observed / deterministic bound
  std::uint64_t violations = 0;
  std::uint64_t nonfinite = 0;                   ///< largest overflow + NaN count of one layer
  double headroom_log2 = 0;                      ///< smallest; +Inf when no layer saw a nonzero value
};
ModuleStats module_stats(const AuditDocument& doc, const Module& m, std::size_t chain);

/// The sum of the local ‖rel‖ max of every computing layer of a chain: the denominator of the
/// "share" the reports print. A first-order model (errors add along the chain with gain 1);
/// it says which layer dominates, not how much of the output drift each layer causes.
double summed_local_rel(const AuditDocument& doc, std::size_t chain);

/// The computing layer with the largest finite, positive local ‖rel‖ max in a chain, or -1.
int worst_local_layer(const AuditDocument& doc, std::size_t chain);

}  // namespace fpaudit
