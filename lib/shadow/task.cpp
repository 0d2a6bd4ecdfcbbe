#include "shadow/task.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace fpaudit {

namespace {

/// The layer that writes `slot`, or null for a graph input or constant.
const PlannedLayer* producer(const Plan& plan, int slot) {
  for (const PlannedLayer& l : plan.layers())
    if (std::find(l.outputs.begin(), l.outputs.end(), slot) != l.outputs.end()) return &l;
  return nullptr;
}

/// The operator that computed an output's values, looking through operators that only move
/// them (a Sigmoid followed by a Reshape is still a probability).
std::string computing_op(const Plan& plan, int slot) {
  for (int hops = 0; hops < 64; ++hops) {
    const PlannedLayer* l = producer(plan, slot);
    if (!l) return "";
    const std::string& op = l->node->op_type;
    const bool moves = op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" ||
                       op == "Transpose";
    if (!moves || l->inputs.empty() || l->inputs[0] < 0) return op;
    slot = l->inputs[0];
  }
  return "";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The one axis of a shape holding more than one element when every other axis holds one; -1
/// when there is none or several.
int single_axis(const Shape& s) {
  int axis = -1;
  for (std::size_t d = 0; d < s.size(); ++d)
    if (s[d] > 1) {
      if (axis >= 0) return -1;
      axis = static_cast<int>(d);
    }
  return axis;
}

double parse_number(const std::string& key, const std::string& text) {
  std::size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v) || v < 0)
    throw std::invalid_argument(fmt::format("--tolerance: {} must be a finite number ≥ 0, not '{}'", key, text));
  return v;
}

}  // namespace

const char* task_name(TaskKind k) {
  switch (k) {
    case TaskKind::Classify: return "classify";
    case TaskKind::Regress: return "regress";
    case TaskKind::Segment: return "segment";
    case TaskKind::Detect: return "detect";
  }
  return "?";
}

TaskKind parse_task(const std::string& text) {
  for (TaskKind k : {TaskKind::Classify, TaskKind::Regress, TaskKind::Segment, TaskKind::Detect})
    if (text == task_name(k)) return k;
  throw std::invalid_argument("--task must be classify, regress, segment or detect, not '" + text + "'");
}

Tolerance parse_tolerance(const std::string& text) {
  Tolerance t;
  bool rtol = false, atol = false;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const std::size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    if (eq == std::string::npos || (key != "rtol" && key != "atol") || (key == "rtol" ? rtol : atol))
      throw std::invalid_argument("--tolerance expects rtol=X,atol=Y (each at most once), not '" + text + "'");
    (key == "rtol" ? rtol : atol) = true;
    (key == "rtol" ? t.rtol : t.atol) = parse_number(key, part.substr(eq + 1));
  }
  if (!rtol && !atol) throw std::invalid_argument("--tolerance expects rtol=X,atol=Y, not '" + text + "'");
  return t;
}

std::vector<OutputTask> choose_tasks(const Plan& plan, const TaskOptions& o) {
  std::vector<OutputTask> out;
  for (std::size_t k = 0; k < plan.output_slots().size(); ++k) {
    OutputTask t;
    t.slot = plan.output_slots()[k];
    t.name = plan.slots()[t.slot].name;
    t.shape = plan.slots()[t.slot].shape;
    t.tolerance = o.tolerance;
    const std::string op = computing_op(plan, t.slot);
    t.threshold = op == "Sigmoid" ? 0.5 : 0.0;
    const long rank = static_cast<long>(t.shape.size());
    const std::int64_t elements = element_count(t.shape);
    const int vector_axis = single_axis(t.shape);
    const std::string shape = shape_string(t.shape);
    const std::string what = fmt::format("output '{}' {}", t.name, shape);
    // The class axis of a segmentation: --class-axis (numpy's negative axes allowed), else 1.
    int axis = o.class_axis_given ? o.class_axis : 1;
    if (axis < 0) axis += static_cast<int>(rank);
    const bool axis_ok = axis >= 0 && axis < rank && t.shape[static_cast<std::size_t>(axis)] >= 2;
    if (o.class_axis_given && (axis < 0 || axis >= rank))
      throw std::invalid_argument(fmt::format("--class-axis {} is outside the {} axes of {}", o.class_axis, rank, what));
    const std::string sigmoid = op == "Sigmoid" ? "a Sigmoid output, threshold 0.5" : "threshold 0";
    if (o.task_given) {
      t.kind = o.task;
      t.automatic = false;
      t.reason = "--task";
      if (t.kind == TaskKind::Classify) {
        if (vector_axis < 0)
          throw std::invalid_argument(fmt::format("--task classify: {} has no class axis (classify needs one axis of "
                                                  "two or more classes; --task segment --class-axis A for class maps)",
                                                  what));
        t.class_axis = vector_axis;
      } else if (t.kind == TaskKind::Segment) {
        if (!axis_ok)
          throw std::invalid_argument(fmt::format("--task segment: {} has no class axis {} of two or more classes", what,
                                                  o.class_axis_given ? o.class_axis : 1));
        t.class_axis = axis;
      } else if (t.kind == TaskKind::Detect) {
        t.reason = "--task, " + sigmoid;
      }
    } else if (k == 0 && o.labels && vector_axis >= 0) {
      t.kind = TaskKind::Classify;
      t.class_axis = vector_axis;
      t.reason = fmt::format("auto: output {} and labels", shape);
    } else if (elements == 1) {
      t.kind = TaskKind::Detect;
      t.reason = fmt::format("auto: output {} holds one score, {}", shape, sigmoid);
    } else if (vector_axis >= 0 && !o.class_axis_given &&
               (op == "Softmax" || op == "LogSoftmax" || lower(t.name).find("logit") != std::string::npos ||
                lower(t.name).find("class") != std::string::npos || lower(t.name).find("prob") != std::string::npos ||
                lower(t.name).find("score") != std::string::npos)) {
      t.kind = TaskKind::Classify;
      t.class_axis = vector_axis;
      t.reason = op == "Softmax" || op == "LogSoftmax" ? fmt::format("auto: output {} from {}", shape, op)
                                                        : fmt::format("auto: output {} named '{}'", shape, t.name);
    } else if (rank >= 3 && axis_ok && (elements / t.shape[static_cast<std::size_t>(axis)] > 1)) {
      t.kind = TaskKind::Segment;
      t.class_axis = axis;
      t.reason = fmt::format("auto: output {}, classes along axis {}", shape, axis);
    } else if (rank >= 3 && !o.class_axis_given && t.shape[1] == 1 && op == "Sigmoid") {
      t.kind = TaskKind::Detect;
      t.reason = fmt::format("auto: output {} is a Sigmoid map, threshold 0.5", shape);
    } else {
      t.kind = TaskKind::Regress;
      t.reason = fmt::format("auto: output {} and no labels", shape);
    }
    if (t.automatic) t.reason += "; --task to change";
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace fpaudit
