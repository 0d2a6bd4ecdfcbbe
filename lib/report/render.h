// Everything a person or a program reads about an audit, rendered from the audit JSON (as an
// AuditDocument), so a saved run renders exactly like a fresh one. One file per format.
#pragma once

#include <string>
#include <vector>

#include "report/audit_document.h"
#include "report/modules.h"
#include "report/table.h"

namespace fpaudit {

// ---- tables shared by several formats (audit_tables.cpp) --------------------------------------
/// One row per chain: accuracy, flips, certified fraction (observed, and any a-priori field a
/// newer audit adds), largest drift δ.
Table summary_table(const AuditDocument& doc);
/// One row per layer for chain `chain`: propagated and local error, observed/bound ratios,
/// overflow and headroom. The layer creating the most error is marked Strong.
Table layer_table(const AuditDocument& doc, std::size_t chain);
/// Short sentences a reader needs first: per chain, what is certified, which layer creates the
/// most error, how close the bounds come, and anything that went wrong.
std::vector<std::string> findings(const AuditDocument& doc);
/// The computing layer (not an exact one) whose observed/bound ratio, deterministic, local or
/// propagated, comes closest to 1.
struct ClosestBound {
  int layer = -1;  ///< -1 when no layer of the chain has a bound
  double ratio = 0;
  bool local = true;
};
ClosestBound closest_bound(const AuditDocument& doc, std::size_t chain);
/// A classification field this version does not know, as a column title ("certified predicted
/// fraction") and a cell (a fraction in [0, 1] named "...fraction" as a percentage).
std::string extra_title(const std::string& key);
Cell extra_cell(const ExtraField& field);
/// Definitions of the columns, one sentence each.
std::vector<std::string> glossary();

// ---- verdict and modules (module_tables.cpp) ---------------------------------------------------
/// One row per chain, what to read first: flips and accuracy change against the reference,
/// certified share (Γ > 2δ), samples gone non-finite, the layer creating the most local error
/// and its share of the chain's summed local error, and what the a-priori bounds achieved.
Table verdict_table(const AuditDocument& doc);
/// The modules `which` (positions in `modules`) of chain `chain`, aggregated as ModuleStats
/// says. `compact` leaves out the layer count and the propagated abs error (terminal width).
Table module_table(const AuditDocument& doc, std::size_t chain, const std::vector<Module>& modules,
                   const std::vector<std::size_t>& which, bool compact);
/// The `n` modules of a chain that matter most, most first: a violated bound, then values gone
/// non-finite, then the largest local error. Modules that only move data are left out.
std::vector<std::size_t> modules_that_matter(const AuditDocument& doc, std::size_t chain, const std::vector<Module>& modules,
                                             std::size_t n);
/// How the module columns are aggregated, for a note under the tables.
std::vector<std::string> module_notes();

/// Several audits side by side, one row per model and chain: accuracy, change against fp32,
/// certified fraction (observed, and predicted when an audit has it), flips, largest drift δ,
/// largest observed/bound ratio, audit time. With `repeat_model` every row names its model and
/// time (CSV); without, only the first row of each model does (Markdown, LaTeX).
Table comparison_table(const std::vector<AuditDocument>& docs, bool repeat_model);

// ---- tasks and parameter causes (task_tables.cpp) ----------------------------------------------
/// "task: regress (tolerance rtol=0.01 atol=0.001; auto: output [1, 96] and no labels; --task to
/// change)", one line per graph output; none for an audit written before tasks.
std::vector<std::string> task_lines(const AuditDocument& doc);
/// One row per chain for graph output k judged by its task: regress (samples within the
/// tolerance, observed and proved; max abs, ‖rel‖, cosine, observed/bound) or decisions
/// (classify, segment, detect: flipped share, samples with a flip, certified shares, smallest
/// margin), then inf/nan and the layer creating the most local error.
Table task_table(const AuditDocument& doc, std::size_t k);
/// One row per damaged parameter (doc.parameter_causes): chain, layer, parameter, overflow,
/// flushed and subnormal elements, its largest magnitude, the layer's local error and inf/nan.
Table parameter_table(const AuditDocument& doc);

// ---- real runtimes' outputs (compare_report.cpp) -----------------------------------------------
/// One row per --compare run: the chain judging it and why, its drift from the reference (max
/// abs, normwise), flips, accuracy, certified share (Γ > 2δ with its own δ), samples within the
/// chain's a-priori bound and the largest observed/bound. With `per_chain`, also its distance to
/// and top-1 disagreements with every chain (CSV). Empty (no rows) without --compare.
Table compare_table(const AuditDocument& doc, bool per_chain);
/// One row per run and chain: max |y_runtime - y_chain| and samples whose top-1 differs.
Table compare_chains_table(const AuditDocument& doc);
/// compare.csv: compare_table with the per-chain columns; "" without --compare.
std::string render_compare_csv(const AuditDocument& doc);

// ---- formats ----------------------------------------------------------------------------------
/// The terminal report, at most 100 columns wide; ANSI colour only when `colour`. By default
/// the verdict per chain and, per chain, the five modules that matter most; `per_layer` gives
/// instead the full per-layer error and bound tables of every chain.
std::string render_terminal(const AuditDocument& doc, bool colour, bool per_layer = false);
/// layers.csv: one row per layer, chain and error kind (columns stable since version 0.1).
std::string render_layers_csv(const AuditDocument& doc);
/// samples.csv: one row per sample.
std::string render_samples_csv(const AuditDocument& doc);
/// A Markdown report: summary, findings, one per-layer table per chain.
std::string render_markdown(const AuditDocument& doc);
/// A LaTeX file of booktabs tables (summary, one per chain) to \input into a paper.
std::string render_latex(const AuditDocument& doc);

struct HtmlOptions {
  /// The gnuplot executable (a name looked up on PATH, or a path). When it cannot be run the
  /// report is still written, with its tables and a note saying why the plots are missing.
  std::string gnuplot = "gnuplot";
};
/// One self-contained HTML file: inline CSS, plots as inline SVG, no external resource.
std::string render_html(const AuditDocument& doc, const HtmlOptions& options);

/// The short model name used in titles and comparison tables: the file name without ".onnx".
std::string model_name(const AuditDocument& doc);

}  // namespace fpaudit
