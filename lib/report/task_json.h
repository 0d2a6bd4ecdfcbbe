// The audit JSON's "task" (each graph output judged by its task, shadow/task.h) and
// "parameter_causes" (constants a chain's storage overflows, flushes or makes subnormal,
// shadow/parameter_causes.h) sections; docs/audit-json.md describes them.
#pragma once

#include <nlohmann/json.hpp>

#include "shadow/audit.h"

namespace fpaudit {

/// {"outputs": [{name, shape, task, automatic, reason, class_axis, threshold, tolerance, chains}]}
nlohmann::json task_json(const AuditResult& r);
/// One sample's judgement of every output whose task is not classify (classify is in the
/// sample's "chains"); null when every output is a classification.
nlohmann::json sample_tasks_json(const AuditResult& r, const SampleRecord& rec);
/// [{layer, layer_name, op, parameter, chain, storage, elements, overflow, flushed, subnormal,
///   max_magnitude, effect: {local_normwise_max, local_abs_max, overflow, nan}}]
nlohmann::json parameter_causes_json(const AuditResult& r, const Plan& plan);

}  // namespace fpaudit
