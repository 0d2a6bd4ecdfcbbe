// fpaudit table's rows for training-step audits: one row per model and chain, read back from
// the JSON train-step writes (lib/train/train_json.cpp), so saved runs merge like audits do.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "train/train_report.h"

namespace fpaudit::train {

namespace {
double share(double part, double whole) { return whole > 0 ? part / whole : 0.0; }
double number(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; }
}  // namespace

std::optional<nlohmann::json> read_train_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("kind", "") != "train-step") return std::nullopt;
  return j;
}

Table train_comparison_table(const std::vector<nlohmann::json>& runs) {
  Table t;
  t.caption = "Training-step audits: one step per chain against the exact reference";
  t.label = "tab:train-comparison";
  t.columns = {Column("model", {}, {}, false), Column("samples"), Column("optimizer", {}, {}, false), Column("chain", {}, {}, false),
               Column("loss scale"), Column("flushed or subnormal"), Column("overflow"), Column("sum violations"),
               Column("recommended scale", {}, {}, false), Column("lost updates"), Column("lost, fp32 master"), Column("loss progress")};
  for (const nlohmann::json& run : runs) {
    const std::string model = std::filesystem::path(run.at("model").get<std::string>()).stem().string();
    const auto& ref_loss = run.at("reference").at("loss");
    for (const nlohmann::json& c : run.at("chains")) {
      double nonzero = 0, flushed = 0, overflow = 0, violations = 0, moved = 0, lost = 0, moved32 = 0, lost32 = 0;
      for (const nlohmann::json& g : c.at("gradients")) {
        nonzero += g.at("exact_nonzero").get<double>();
        flushed += g.at("flushed").get<double>() + g.at("subnormal").get<double>();
        overflow += g.at("overflow").get<double>();
        violations += g.at("sums").at("violations").get<double>();
      }
      for (const nlohmann::json& u : c.at("updates")) {
        moved += u.at("pure").at("moved").get<double>(), lost += u.at("pure").at("lost").get<double>();
        moved32 += u.at("master").at("moved").get<double>(), lost32 += u.at("master").at("lost").get<double>();
      }
      const auto& loss = c.at("trajectory").at("loss");
      const double dr = number(ref_loss.front()) - number(ref_loss.back());
      const double progress = dr != 0 ? (number(loss.front()) - number(loss.back())) / dr : NAN;
      Cell v = Cell::of_count(violations);
      if (violations > 0) v.marked(Mark::Bad);
      t.rows.push_back({Cell::of_code(model), Cell::of_count(run.at("samples").get<double>()),
                        Cell::of_text(run.at("settings").at("optimizer").get<std::string>()), Cell::of_code(c.at("chain").get<std::string>()),
                        Cell::of_real(c.at("loss_scale").get<double>()), Cell::of_percent(share(flushed, nonzero), 2),
                        Cell::of_percent(share(overflow, nonzero), 2), v,
                        Cell::of_text(fmt::format("2^{}", c.at("loss_scales").at("recommended_log2").get<int>())),
                        Cell::of_percent(share(lost, moved), 2), Cell::of_percent(share(lost32, moved32), 2),
                        std::isfinite(progress) ? Cell::of_real(progress) : Cell::missing("NaN")});
    }
  }
  return t;
}

}  // namespace fpaudit::train
