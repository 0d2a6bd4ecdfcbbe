// train-step's JSON: every number of TrainResult, non-finite values as null.
#include <cmath>

#include "train/train_report.h"

namespace fpaudit::train {

namespace {
using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json range_json(const ScaleRange& r) {
  if (r.empty()) return nullptr;
  return {{"low_log2", r.low}, {"high_log2", r.high}};
}

json updates_json(const UpdateCounts& u) {
  return {{"elements", u.elements}, {"moved", u.moved}, {"lost", u.lost}, {"nonfinite", u.nonfinite},
          {"second_moment_zero", u.second_moment_zero}, {"second_moment_subnormal", u.second_moment_subnormal}};
}

json gradient_json(const GradientStats& g, bool reference) {
  json j = {{"name", g.name}, {"layer", g.layer}, {"parameter", g.parameter}, {"elements", g.elements}, {"exact_nonzero", g.exact_nonzero}};
  if (reference) {
    j["exact_min"] = num(g.exact_min);
    j["exact_max"] = num(g.exact_max);
    j["histogram_log2_low"] = kHistogramLow;
    j["histogram"] = g.histogram;
    return j;
  }
  j["flushed"] = g.flushed;
  j["subnormal"] = g.subnormal;
  j["overflow"] = g.overflow;
  j["max_abs_error"] = num(g.max_abs_error);
  j["normwise_error"] = num(g.normwise);
  j["cosine"] = num(g.cosine);
  j["sums"] = {{"checked", g.sums.checked}, {"violations", g.sums.violations}, {"max_ratio", num(g.sums.max_ratio)}};
  // Theorem 4: the backward pass's own error in 2-norm (at the loss scale) and its bound (null
  // where a layer on the way has none).
  j["backward"] = {{"error", num(g.backward_error)}, {"bound", num(g.backward_bound)}, {"exact_norm", num(g.backward_reference)}};
  return j;
}
}  // namespace

nlohmann::json train_to_json(const TrainResult& r, const TrainReportSource& source) {
  const TrainOptions& o = r.options;
  json j;
  j["fpaudit"] = source.version;
  j["kind"] = "train-step";
  j["model"] = source.model;
  j["input"] = source.input;
  j["samples"] = r.samples;
  j["threads"] = r.threads;
  j["seconds"] = r.seconds;
  j["settings"] = {{"loss", loss_name(o.loss)},
                   {"optimizer", optimizer_name(o.optimizer.kind)},
                   {"lr", o.optimizer.lr},
                   {"momentum", o.optimizer.momentum},
                   {"beta1", o.optimizer.beta1},
                   {"beta2", o.optimizer.beta2},
                   {"epsilon", o.optimizer.epsilon},
                   {"loss_scale", o.dynamic_scale ? json("dynamic") : json(o.loss_scale)},
                   {"master_weights", o.master_weights},
                   {"steps", o.steps}};
  j["parameters"] = json::array();
  for (std::size_t k = 0; k < r.parameters.size(); ++k) j["parameters"].push_back({{"name", r.parameters[k]}, {"elements", r.parameter_sizes[k]}});
  j["reference"] = {{"loss", r.reference_loss}, {"gradients", json::array()}};
  for (const GradientStats& g : r.reference_gradients) j["reference"]["gradients"].push_back(gradient_json(g, true));
  j["chains"] = json::array();
  for (const ChainTrainResult& c : r.chains) {
    json cj = {{"chain", c.chain}, {"storage", c.storage}, {"loss_scale", c.scale}, {"dynamic_skipped", c.dynamic_skipped},
               {"adam_epsilon_stored", c.epsilon_pure}, {"seconds", c.seconds}};
    cj["gradients"] = json::array();
    for (const GradientStats& g : c.gradients) cj["gradients"].push_back(gradient_json(g, false));
    const LossScaleAnalysis& s = c.scales;
    cj["loss_scales"] = {{"exact_min", num(s.exact_min)}, {"exact_max", num(s.exact_max)}, {"all_normal", range_json(s.all_normal)},
                         {"no_flush", range_json(s.no_flush)}, {"dynamic_settles_log2", s.no_overflow_max},
                         {"recommended_log2", s.recommended},
                         {"observed_at_recommended", {{"exact_nonzero", s.checked}, {"flushed", s.flushed}, {"subnormal", s.subnormal}, {"overflow", s.overflow}}}};
    cj["updates"] = json::array();
    for (std::size_t k = 0; k < c.update_pure.size(); ++k)
      cj["updates"].push_back({{"parameter", r.parameters[k]}, {"pure", updates_json(c.update_pure[k])}, {"master", updates_json(c.update_master[k])}});
    cj["trajectory"] = {{"loss", c.loss}, {"drift", json::array()}, {"updates", json::array()}, {"layer_drift", json::array()}};
    for (double d : c.drift) cj["trajectory"]["drift"].push_back(num(d));
    for (const UpdateCounts& u : c.trajectory_updates) cj["trajectory"]["updates"].push_back(updates_json(u));
    for (double d : c.layer_drift) cj["trajectory"]["layer_drift"].push_back(num(d));
    for (auto& v : cj["trajectory"]["loss"]) if (!std::isfinite(v.get<double>())) v = nullptr;
    j["chains"].push_back(std::move(cj));
  }
  return j;
}

}  // namespace fpaudit::train
