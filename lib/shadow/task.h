// What each network output is, and so how the audit judges it (issue 15, point 3):
//   classify  a class score vector [1, C]: top-1 class, flips, Γ > 2δ (shadow/classify.h);
//   regress   an embedding or any real-valued output: errors against the reference, against
//             their bound and against a tolerance atol + rtol·|ref|, per sample;
//   segment   class scores per pixel along a class axis: top-1 per pixel, flipped and
//             certified pixels (Γ > 2δ per pixel);
//   detect    a score per element (one logit, a probability map): the decision y > threshold
//             per element (threshold 0 for logits, 0.5 after a Sigmoid), flipped and certified
//             elements (the error below the distance to the threshold).
// The automatic choice (choose_tasks) is stated with its reason in every report.
#pragma once

#include <string>
#include <vector>

#include "shadow/plan.h"

namespace fpaudit {

enum class TaskKind { Classify, Regress, Segment, Detect };

const char* task_name(TaskKind k);
/// "classify", "regress", "segment", "detect"; throws std::invalid_argument otherwise.
TaskKind parse_task(const std::string& text);

/// Tolerance of a regression output: |y − ref| ≤ atol + rtol·|ref| elementwise.
struct Tolerance {
  double rtol = 1e-2;
  double atol = 1e-3;
};
/// "rtol=1e-3,atol=1e-5" (either part may be left out: it keeps its default); throws
/// std::invalid_argument naming the problem for anything else, negative or non-finite values.
Tolerance parse_tolerance(const std::string& text);

/// What the user asked for (fpaudit audit --task, --class-axis, --tolerance).
struct TaskOptions {
  bool task_given = false;
  TaskKind task = TaskKind::Classify;
  bool class_axis_given = false;
  int class_axis = 1;  ///< --class-axis (negative counts from the end, as in numpy)
  Tolerance tolerance;
  bool labels = false;  ///< labels were given (they make the first output a classification)
};

/// The judgement of one graph output.
struct OutputTask {
  int slot = -1;
  std::string name;
  Shape shape;
  TaskKind kind = TaskKind::Classify;
  bool automatic = true;
  std::string reason;   ///< why, e.g. "auto: output [1,96] and no labels; --task to change"
  int class_axis = -1;  ///< classify and segment: the axis holding the classes
  double threshold = 0;  ///< detect: the decision threshold
  Tolerance tolerance;   ///< regress
};

/// One OutputTask per graph output, in graph order. The automatic rule, per output:
///   1. --task given: that task for every output (--class-axis for segment, default 1);
///   2. the first output with labels given, when it has a class axis: classify;
///   3. one element: detect (a binary decision);
///   4. [1, C] (one axis of C ≥ 2 elements) produced by Softmax/LogSoftmax, or named like class
///      scores (a name containing "logit", "class", "prob" or "score"): classify;
///   5. [1, C, ...spatial] with C ≥ 2 and a spatial size above 1: segment along axis 1 (or
///      along --class-axis, which also makes any output of rank ≥ 3 a segmentation);
///      with C = 1 and produced by a Sigmoid: detect (a probability map);
///   6. anything else: regress.
/// A Sigmoid producer (through reshapes) sets the detect threshold to 0.5, otherwise 0.
/// Throws std::invalid_argument (a usage error) for a --class-axis outside the output's axes or
/// --task classify on an output with no class axis.
std::vector<OutputTask> choose_tasks(const Plan& plan, const TaskOptions& options);

}  // namespace fpaudit
