// Real runtimes' outputs in the audit (--compare): written to the JSON, read back, and rendered as
// tables next to the emulated chains.
#include <cmath>

#include <fmt/format.h>

#include "report/audit_report.h"
#include "report/render.h"

namespace fpaudit {

namespace {

using json = nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

/// The few typed reads the compare array needs, each failing as "<source>: <path>: <problem>".
struct CompareReader {
  const std::string& source;
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw ReportError(fmt::format("{}: {}: {}", source, path, problem));
  }
  const json& field(const json& o, const std::string& path, const char* key) const {
    if (!o.is_object() || !o.contains(key)) fail(path, fmt::format("missing '{}'", key));
    return o[key];
  }
  double number(const json& o, const std::string& path, const char* key) const {
    const json& v = field(o, path, key);
    if (v.is_null()) return NAN;
    if (!v.is_number()) fail(path + "/" + key, "expected a number");
    return v.get<double>();
  }
  long integer(const json& o, const std::string& path, const char* key) const {
    const json& v = field(o, path, key);
    if (!v.is_number_integer() || v.get<long>() < 0) fail(path + "/" + key, "expected a count");
    return v.get<long>();
  }
  std::string text(const json& o, const std::string& path, const char* key) const {
    const json& v = field(o, path, key);
    if (!v.is_string()) fail(path + "/" + key, "expected a string");
    return v.get<std::string>();
  }
};

Cell ratio_cell(double r) { return std::isfinite(r) ? Cell::of_real(r).marked(r > 1 ? Mark::Bad : Mark::None) : Cell::missing("no bound"); }

}  // namespace

json compare_json(const AuditResult& r) {
  json out = json::array();
  for (const ExternalSummary& s : r.compare) {
    const double n = static_cast<double>(s.samples);
    json chains = json::array();
    for (std::size_t c = 0; c < r.chains.size(); ++c)
      chains.push_back({{"chain", r.chains[c].name}, {"max_abs_diff", num(s.max_delta_chain[c])}, {"top1_differs", s.top1_differs_chain[c]}});
    out.push_back({{"name", s.name},
                   {"file", s.file},
                   {"chain", s.chain},
                   {"chain_rule", s.chain_named ? "named" : "closest"},
                   {"samples", s.samples},
                   {"max_abs", num(s.max_abs)},
                   {"normwise_max", num(s.normwise_max)},
                   {"normwise_mean", num(s.normwise_mean)},
                   {"accuracy", r.has_labels && s.samples ? num(s.correct / n) : json(nullptr)},
                   {"correct", s.correct},
                   {"flips_vs_reference", s.flips_vs_ref},
                   {"certified", s.certified},
                   {"bound", {{"within", s.within_bound}, {"outside", s.outside_bound}, {"unbounded", s.unbounded},
                              {"max_ratio", s.within_bound + s.outside_bound > 0 ? num(s.max_bound_ratio) : json(nullptr)}}},
                   {"chains", chains}});
  }
  return out;
}

std::vector<CompareView> read_compare_views(const json& compare, const std::string& source) {
  const CompareReader rd{source};
  if (!compare.is_array()) rd.fail("/compare", "expected an array");
  std::vector<CompareView> views;
  for (std::size_t i = 0; i < compare.size(); ++i) {
    const std::string p = fmt::format("/compare/{}", i);
    const json& c = compare[i];
    CompareView v;
    v.name = rd.text(c, p, "name");
    v.file = rd.text(c, p, "file");
    v.chain = rd.text(c, p, "chain");
    v.chain_rule = rd.text(c, p, "chain_rule");
    v.samples = rd.integer(c, p, "samples");
    v.max_abs = rd.number(c, p, "max_abs");
    v.normwise_max = rd.number(c, p, "normwise_max");
    v.normwise_mean = rd.number(c, p, "normwise_mean");
    v.accuracy = rd.number(c, p, "accuracy");
    v.correct = rd.integer(c, p, "correct");
    v.flips_vs_reference = rd.integer(c, p, "flips_vs_reference");
    v.certified = rd.integer(c, p, "certified");
    const json& b = rd.field(c, p, "bound");
    v.within_bound = rd.integer(b, p + "/bound", "within");
    v.outside_bound = rd.integer(b, p + "/bound", "outside");
    v.unbounded = rd.integer(b, p + "/bound", "unbounded");
    v.max_bound_ratio = rd.number(b, p + "/bound", "max_ratio");
    const json& chains = rd.field(c, p, "chains");
    if (!chains.is_array()) rd.fail(p + "/chains", "expected an array");
    for (std::size_t k = 0; k < chains.size(); ++k) {
      const std::string q = fmt::format("{}/chains/{}", p, k);
      v.chains.push_back({rd.text(chains[k], q, "chain"), rd.number(chains[k], q, "max_abs_diff"), rd.integer(chains[k], q, "top1_differs")});
    }
    views.push_back(std::move(v));
  }
  return views;
}

Table compare_table(const AuditDocument& doc, bool per_chain) {
  Table t;
  t.caption = "Real runtimes' outputs against the reference and the judging chain's a-priori bound";
  t.label = "tab:fpaudit-compare";
  t.columns = {{"runtime", "", "", false, "runtime"},
               {"judged by", "", "", false, "chain"},
               {"rule", "", "", false, "chain_rule"},
               {"samples", "", "", true, "samples"},
               {"max |Δ|", "max $|\\Delta|$", "vs reference", true, "max_abs"},
               {"max ‖rel‖", "max $\\|rel\\|$", "vs reference", true, "normwise_max"},
               {"flips", "", "vs reference", true, "flips_vs_reference"},
               {"accuracy", "", "", true, "accuracy"},
               {"certified", "", "", true, "certified_fraction"},
               {"in bound", "", "a-priori bound", true, "within_bound"},
               {"obs/bound", "", "a-priori bound", true, "max_observed_over_bound"}};
  if (per_chain && !doc.compare.empty())
    for (const CompareChainView& c : doc.compare[0].chains) {
      t.columns.push_back({"max diff " + chain_label(c.chain), "", "to chain", true, "max_abs_diff_" + c.chain});
      t.columns.push_back({"top-1 differs " + chain_label(c.chain), "", "to chain", true, "top1_differs_" + c.chain});
    }
  for (const CompareView& v : doc.compare) {
    const double n = static_cast<double>(v.samples);
    std::vector<Cell> row = {Cell::of_code(v.name), Cell::of_chain(v.chain), Cell::of_text(v.chain_rule),
                             Cell::of_count(static_cast<double>(v.samples)), Cell::of_real(v.max_abs),
                             Cell::of_real(v.normwise_max), Cell::of_count(static_cast<double>(v.flips_vs_reference)),
                             std::isfinite(v.accuracy) ? Cell::of_percent(v.accuracy, 2) : Cell::missing(),
                             v.samples ? Cell::of_percent(v.certified / n) : Cell::missing()};
    const long judged = v.within_bound + v.outside_bound;
    row.push_back(judged ? Cell::of_count(static_cast<double>(v.within_bound)).marked(v.outside_bound ? Mark::Bad : Mark::None)
                         : Cell::missing("no bound"));
    row.push_back(judged ? ratio_cell(v.max_bound_ratio) : Cell::missing("no bound"));
    if (per_chain)
      for (const CompareChainView& c : v.chains) {
        row.push_back(Cell::of_real(c.max_abs_diff));
        row.push_back(Cell::of_count(static_cast<double>(c.top1_differs)));
      }
    t.rows.push_back(std::move(row));
  }
  t.notes = {"judged by: the chain whose a-priori bound the runtime is tested against, named after '@' in --compare "
             "NAME@CHAIN=FILE or, without one, the closest chain (smallest largest |y_runtime - y_chain|, the first on a tie).",
             "max |Δ|, max ‖rel‖: the runtime's outputs against the reference (largest over logits, and ‖y - z‖₂/‖z‖₂, over "
             "samples); certified: samples with Γ > 2δ for its own δ; in bound: samples whose δ is at most the judging chain's "
             "a-priori deterministic bound on δ (E + R; it holds for any summation order, theory/dot-product.md); obs/bound: the largest δ over that "
             "bound (above 1: the runtime computes something the chain does not model)."};
  return t;
}

Table compare_chains_table(const AuditDocument& doc) {
  Table t;
  t.caption = "Real runtimes against each emulated chain";
  t.columns = {{"runtime", "", "", false, "runtime"}, {"chain", "", "", false, "chain"},
               {"max |y_runtime - y_chain|", "", "", true, "max_abs_diff"}, {"top-1 differs", "", "", true, "top1_differs"}};
  for (const CompareView& v : doc.compare)
    for (const CompareChainView& c : v.chains) {
      Cell diff = Cell::of_real(c.max_abs_diff);
      if (c.chain == v.chain) diff.marked(Mark::Strong);
      t.rows.push_back({Cell::of_code(v.name), Cell::of_chain(c.chain), diff, Cell::of_count(static_cast<double>(c.top1_differs))});
    }
  return t;
}

std::string render_compare_csv(const AuditDocument& doc) { return doc.compare.empty() ? "" : table_csv(compare_table(doc, true)); }

}  // namespace fpaudit
