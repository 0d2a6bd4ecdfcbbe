// The margin-directed certificates and per-layer blame in the audit JSON (docs/audit-json.md,
// theory/margin-bound.md).
#pragma once

#include <nlohmann/json.hpp>

#include "shadow/audit.h"

namespace fpaudit {

/// classification.chains.<chain>.certified.margin: counts, failure probability, and the
/// distribution over samples of observed drift / bound for the runner-up direction.
nlohmann::json margin_certificates(const AuditResult& r, std::size_t chain);
/// layers[].chains.<chain>.margin_blame.
nlohmann::json margin_blame(const AuditResult& r, const MarginBlame& b);
/// samples[].chains.<chain>.margin.
nlohmann::json margin_sample(const AuditResult& r, const MarginVerdict& v);

}  // namespace fpaudit
