// The reports of fpaudit train-step, in every format: JSON (every field of TrainResult, named as
// in lib/train/train_step.h; non-finite numbers as null), the terminal, Markdown, CSV, LaTeX
// (booktabs) and one self-contained HTML file with a histogram per gradient tensor of its exact
// magnitudes against the storage format's subnormal and normal range. The tables are report's Table (lib/report/table.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/table.h"
#include "train/train_step.h"

namespace fpaudit::train {

struct TrainReportSource {
  std::string model, input, version;
};

nlohmann::json train_to_json(const TrainResult& r, const TrainReportSource& source);

/// One row per chain: the step's verdict (gradient error, flushed and overflowed shares at the
/// loss scale, bound violations, recommended scale, lost updates, loss trend).
Table train_summary_table(const TrainResult& r);
/// One row per gradient tensor of chain c: errors against the exact gradient, shares flushed,
/// subnormal and overflowed, the backward sums against their bound.
Table train_gradient_table(const TrainResult& r, std::size_t c);
/// One row per chain: the loss-scale analysis and what the recommended scale gives observed.
Table train_scale_table(const TrainResult& r);
/// One row per chain and parameter: updates lost without and with fp32 master weights, Adam's
/// second moments that underflow.
Table train_update_table(const TrainResult& r);
/// One row per step: the reference's loss and each chain's, and each chain's weight drift.
Table train_trajectory_table(const TrainResult& r);

std::string train_terminal(const TrainResult& r, const TrainReportSource& source, bool per_tensor);
std::string train_markdown(const TrainResult& r, const TrainReportSource& source);
std::string train_latex(const TrainResult& r, const TrainReportSource& source);
/// Every gradient table, one row per chain and tensor.
std::string train_csv(const TrainResult& r);
std::string train_html(const TrainResult& r, const TrainReportSource& source);

/// The JSON of a train-step run at `path`; none when the file is not one (an audit's JSON, or
/// unreadable: the audit reader then says why).
std::optional<nlohmann::json> read_train_json(const std::string& path);
/// fpaudit table's rows for saved train-step JSON files: one per model and chain.
Table train_comparison_table(const std::vector<nlohmann::json>& runs);

}  // namespace fpaudit::train
