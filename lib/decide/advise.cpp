#include "decide/advise.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "core/mixed_arithmetic.h"

namespace fpaudit {

namespace {

/// Single-layer drops tried after the bisection: each costs one audit.
constexpr int kMaxDrops = 8;

/// The number before `suffix` at the end of text, or throws.
double number_of(std::string_view text, std::string_view suffix, std::string_view whole) {
  if (text.size() < suffix.size() || text.substr(text.size() - suffix.size()) != suffix)
    throw std::invalid_argument(fmt::format("target '{}': expected a number followed by '{}'", whole, suffix));
  const std::string n(text.substr(0, text.size() - suffix.size()));
  std::size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(n, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (n.empty() || used != n.size() || !std::isfinite(v)) throw std::invalid_argument(fmt::format("target '{}': '{}' is not a number", whole, n));
  return v;
}

struct Candidate {
  std::size_t layer;
  double blame;
};

/// A layer's blame in chain 0 of an audit: its mean share of the margin-directed bound where the
/// audit has one, else its mean local normwise error.
double blame_of(const AuditResult& r, std::size_t l) {
  const LayerChainStats& st = r.stats[l][0];
  if (r.margin) return st.margin.samples > 0 ? st.margin.bound_share / static_cast<double>(st.margin.samples) : 0;
  return st.local.normwise.mean();
}

/// Whether `a` is a better (or equal) result than `b` for the target.
bool at_least_as_good(const AdviseMetrics& a, const AdviseMetrics& b, const AdviseTarget& t) {
  switch (t.kind) {
    case AdviseTarget::Kind::Flips: return a.flips <= b.flips;
    case AdviseTarget::Kind::Certified: return a.certified >= b.certified;
    case AdviseTarget::Kind::AccuracyDrop: return a.accuracy_drop_pp <= b.accuracy_drop_pp;
    case AdviseTarget::Kind::RelError: return a.rel_error <= b.rel_error;
  }
  return false;
}

class Search {
 public:
  Search(const Plan& plan, const Constant& inputs, const Constant* labels, const AdviseOptions& o, const std::string& in_name,
         const std::string& lab_name)
      : plan_(plan), inputs_(inputs), labels_(labels), o_(o), in_name_(in_name), lab_name_(lab_name) {}

  /// The node names a set of rounding layers keeps, with the exact layers carried along.
  std::vector<std::string> closure(const std::vector<std::size_t>& chosen) const {
    const auto& layers = plan_.layers();
    std::vector<char> kept(layers.size(), 0), eligible(layers.size(), 0);
    for (std::size_t l : chosen) kept[l] = 1;
    auto held_kept = [&](int slot) {  // a runtime value a kept layer produced, or a graph input
      const int p = plan_.producer(slot);
      return p < 0 ? !plan_.slots()[static_cast<std::size_t>(slot)].constant : kept[static_cast<std::size_t>(p)] || eligible[static_cast<std::size_t>(p)];
    };
    for (std::size_t l = 0; l < layers.size(); ++l) {
      if (kept[l] || !layers[l].kernel->exact()) continue;
      bool all = false;
      for (int s : layers[l].inputs) {
        if (s < 0 || plan_.slots()[static_cast<std::size_t>(s)].constant) continue;
        if (!held_kept(s)) {
          all = false;
          break;
        }
        all = true;
      }
      eligible[l] = all;
    }
    // Backwards: an eligible exact layer is kept when one of its readers is (or it is an output).
    for (std::size_t l = layers.size(); l-- > 0;) {
      if (!eligible[l]) continue;
      for (int o : layers[l].outputs) {
        if (o < 0) continue;
        const bool out = std::find(plan_.output_slots().begin(), plan_.output_slots().end(), o) != plan_.output_slots().end();
        bool read = out;
        for (int r : plan_.readers(o)) read = read || kept[static_cast<std::size_t>(r)];
        if (read) kept[l] = 1;
      }
    }
    std::vector<std::string> names;
    for (std::size_t l = 0; l < layers.size(); ++l)
      if (kept[l]) names.push_back(layers[l].node->name);
    return names;
  }

  /// Audits the chain keeping `chosen`; records the step.
  AdviseStep audit(const std::string& phase, const std::vector<std::size_t>& chosen) {
    const auto start = std::chrono::steady_clock::now();
    AdviseStep step;
    step.phase = phase;
    step.kept = closure(chosen);
    AuditOptions a;
    a.chains = {chain_for(step.kept)};
    a.reference = o_.reference;
    a.max_samples = o_.max_samples;
    a.threads = o_.threads;
    // The a-priori certificates only for a certified target; the margin bound for the blame of
    // a classification target.
    a.apriori = o_.target.kind == AdviseTarget::Kind::Certified;
    a.margin = o_.target.kind != AdviseTarget::Kind::RelError;
    AuditResult r = run_audit(plan_, inputs_, labels_, a, in_name_, lab_name_);
    step.metrics = advise_metrics(plan_, r, 0);
    step.meets = meets(step.metrics, o_.target);
    step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history_.push_back(step);
    if (o_.progress) o_.progress(step);
    // The best set so far (what "not reachable" reports): a better figure, or as good with fewer
    // nodes. Audits that meet the target come one after another down to the final set, so the
    // last one is the final verifying audit.
    const bool better = !best_ || !at_least_as_good(best_step_.metrics, step.metrics, o_.target) ||
                        (at_least_as_good(step.metrics, best_step_.metrics, o_.target) && step.kept.size() < best_step_.kept.size());
    if (better) best_ = true, best_step_ = step, best_audit_ = r;
    if (step.meets) last_meeting_ = step, last_meeting_audit_ = r;
    last_blame_.assign(plan_.layers().size(), 0);
    for (std::size_t l = 0; l < plan_.layers().size(); ++l) last_blame_[l] = blame_of(r, l);
    return step;
  }

  ChainSpec chain_for(const std::vector<std::string>& kept) const {
    if (kept.empty()) return o_.base;
    ChainSpec c = mixed_chain(o_.base, o_.kept, kept);
    resolve_kept(c, plan_.graph());
    return c;
  }

  AdviseResult run() {
    const auto start = std::chrono::steady_clock::now();
    AdviseResult res;
    const AdviseStep base = audit("base", {});
    res.base = base.metrics;
    std::vector<std::size_t> chosen;
    std::vector<double> blame_when_chosen(plan_.layers().size(), 0);
    bool met = base.meets;
    std::vector<std::size_t> before_batch, batch;
    for (std::size_t step = 1; !met; step *= 2) {
      std::vector<Candidate> rest;
      for (std::size_t l = 0; l < plan_.layers().size(); ++l)
        if (!plan_.layers()[l].kernel->exact() && std::find(chosen.begin(), chosen.end(), l) == chosen.end())
          rest.push_back({l, last_blame_[l]});
      if (rest.empty()) break;
      // Highest blame first; equal blame: more multiply-adds first, then graph order.
      std::stable_sort(rest.begin(), rest.end(), [&](const Candidate& a, const Candidate& b) {
        if (a.blame != b.blame) return a.blame > b.blame;
        return plan_.layers()[a.layer].multiply_adds > plan_.layers()[b.layer].multiply_adds;
      });
      before_batch = chosen;
      batch.clear();
      for (std::size_t k = 0; k < step && k < rest.size(); ++k) {
        batch.push_back(rest[k].layer);
        blame_when_chosen[rest[k].layer] = rest[k].blame;
      }
      chosen.insert(chosen.end(), batch.begin(), batch.end());
      met = audit("grow", chosen).meets;
    }
    if (met && !chosen.empty()) {
      // Bisect the last batch: the smallest prefix (in blame order) that still meets the target.
      std::size_t lo = 1, hi = batch.size();
      while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        std::vector<std::size_t> trial = before_batch;
        trial.insert(trial.end(), batch.begin(), batch.begin() + static_cast<long>(mid));
        if (audit("shrink", trial).meets) hi = mid;
        else lo = mid + 1;
      }
      chosen = before_batch;
      chosen.insert(chosen.end(), batch.begin(), batch.begin() + static_cast<long>(hi));
      // Then drop single earlier layers, lowest blame first.
      std::vector<std::size_t> order = before_batch;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return blame_when_chosen[a] < blame_when_chosen[b]; });
      int drops = 0;
      for (std::size_t l : order) {
        if (drops++ >= kMaxDrops) break;
        std::vector<std::size_t> trial;
        for (std::size_t k : chosen)
          if (k != l) trial.push_back(k);
        if (audit("shrink", trial).meets) chosen = trial;
      }
    }
    res.reached = met;
    if (met) {
      res.kept = closure(chosen);
      res.final = last_meeting_.metrics;
      res.audit = std::move(last_meeting_audit_);
    } else {
      res.kept = best_step_.kept;
      res.final = best_step_.metrics;
      res.audit = std::move(best_audit_);
    }
    res.chain = chain_for(res.kept);
    for (const PlannedLayer& layer : plan_.layers()) {
      res.total_multiply_adds += layer.multiply_adds;
      if (std::find(res.kept.begin(), res.kept.end(), layer.node->name) != res.kept.end()) res.kept_multiply_adds += layer.multiply_adds;
    }
    res.history = history_;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
  }

 private:
  const Plan& plan_;
  const Constant& inputs_;
  const Constant* labels_;
  const AdviseOptions& o_;
  const std::string& in_name_;
  const std::string& lab_name_;
  std::vector<AdviseStep> history_;
  std::vector<double> last_blame_;
  bool best_ = false;
  AdviseStep best_step_, last_meeting_;
  AuditResult best_audit_, last_meeting_audit_;
};

}  // namespace

AdviseTarget parse_advise_target(std::string_view text) {
  const std::size_t eq = text.find('=');
  const std::string_view key = text.substr(0, eq), value = eq == std::string_view::npos ? "" : text.substr(eq + 1);
  AdviseTarget t;
  t.text = std::string(text);
  if (key == "flips") {
    t.kind = AdviseTarget::Kind::Flips;
    t.value = number_of(value, "", text);
    if (t.value < 0 || t.value != std::floor(t.value)) throw std::invalid_argument(fmt::format("target '{}': flips must be a whole number ≥ 0", text));
  } else if (key == "certified") {
    t.kind = AdviseTarget::Kind::Certified;
    t.value = number_of(value, "%", text);
    if (!(t.value > 0 && t.value <= 100)) throw std::invalid_argument(fmt::format("target '{}': certified must be in (0, 100]%", text));
  } else if (key == "accuracy-drop") {
    t.kind = AdviseTarget::Kind::AccuracyDrop;
    t.value = number_of(value, "pp", text);
    if (t.value < 0) throw std::invalid_argument(fmt::format("target '{}': accuracy-drop must be ≥ 0pp", text));
  } else if (key == "rel-error") {
    t.kind = AdviseTarget::Kind::RelError;
    t.value = number_of(value, "", text);
    if (!(t.value > 0)) throw std::invalid_argument(fmt::format("target '{}': rel-error must be positive", text));
  } else {
    throw std::invalid_argument(fmt::format("unknown target '{}' (expected flips=N, certified=P%, accuracy-drop=Xpp or rel-error=T)", text));
  }
  return t;
}

AdviseMetrics advise_metrics(const Plan& plan, const AuditResult& r, std::size_t c) {
  AdviseMetrics m;
  m.samples = r.samples;
  const ChainClassification& k = r.classification.at(c);
  m.flips = k.flips_vs_ref;
  if (r.apriori) m.certified = std::max(k.a_priori_det, r.margin ? k.margin_a_priori_det : 0L);
  m.has_labels = r.has_labels;
  if (r.has_labels && r.samples > 0)
    m.accuracy_drop_pp = 100.0 * static_cast<double>(r.reference_correct - k.correct) / static_cast<double>(r.samples);
  for (int out : plan.output_slots()) {
    const int p = plan.producer(out);
    if (p >= 0) m.rel_error = std::fmax(m.rel_error, r.stats[static_cast<std::size_t>(p)][c].propagated.normwise.max);
  }
  m.violations = k.lemma_violations + k.certificate_violations + k.margin_violations + k.margin_certificate_violations;
  for (const auto& row : r.stats) m.violations += static_cast<long>(row[c].propagated_bound.violations + row[c].local_bound.violations);
  return m;
}

bool meets(const AdviseMetrics& m, const AdviseTarget& t) {
  switch (t.kind) {
    case AdviseTarget::Kind::Flips: return static_cast<double>(m.flips) <= t.value;
    case AdviseTarget::Kind::Certified: return m.certified >= 0 && m.certified_percent() >= t.value;
    case AdviseTarget::Kind::AccuracyDrop: return m.has_labels && m.accuracy_drop_pp <= t.value;
    case AdviseTarget::Kind::RelError: return m.rel_error <= t.value;
  }
  return false;
}

std::string target_figure(const AdviseMetrics& m, const AdviseTarget& t) {
  switch (t.kind) {
    case AdviseTarget::Kind::Flips: return fmt::format("flips {}", m.flips);
    case AdviseTarget::Kind::Certified: return fmt::format("certified {:.1f}%", m.certified_percent());
    case AdviseTarget::Kind::AccuracyDrop: return fmt::format("accuracy-drop {:.2f}pp", m.accuracy_drop_pp);
    case AdviseTarget::Kind::RelError: return fmt::format("rel-error {:.3g}", m.rel_error);
  }
  return "";
}

AdviseResult advise(const Plan& plan, const Constant& inputs, const Constant* labels, const AdviseOptions& options,
                    const std::string& input_name, const std::string& labels_name) {
  if (options.target.kind == AdviseTarget::Kind::AccuracyDrop && !labels)
    throw std::invalid_argument("target '" + options.target.text + "' needs --labels");
  Search s(plan, inputs, labels, options, input_name, labels_name);
  return s.run();
}

std::string keep_file_text(const std::vector<std::string>& nodes, const std::string& header) {
  std::string s;
  std::size_t start = 0;
  while (start < header.size()) {
    const std::size_t nl = std::min(header.find('\n', start), header.size());
    s += "# " + header.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  for (const std::string& n : nodes) s += n + "\n";
  return s;
}

}  // namespace fpaudit
