// Turning an AuditResult into the audit JSON: the complete record, versioned schema in
// docs/audit-json.md. Everything people read (terminal table, CSV, Markdown, LaTeX, HTML) is
// rendered from that JSON (report/render.h), so a saved run renders exactly like a fresh one.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "shadow/audit.h"

namespace fpaudit {

/// What the result was computed from, for the report header.
struct AuditSource {
  std::string model_path;
  std::string input_path;
  std::string labels_path;  ///< empty without labels
  std::string fpaudit_version;
};

constexpr int kAuditJsonVersion = 1;

/// The "compare" array: one object per --compare run (docs/audit-json.md).
nlohmann::json compare_json(const AuditResult& r);

nlohmann::json audit_to_json(const AuditResult& r, const Plan& plan, const AuditSource& source);

/// For every chain: the first layer whose output went NaN or Inf in any sample, and in how
/// many samples that chain's values went non-finite at all.
struct FirstNonfinite {
  int layer = -1;
  long samples = 0;
};
std::vector<FirstNonfinite> first_nonfinite(const AuditResult& r);

/// log2(max_finite / largest |value|): how many binades of headroom remain (Inf when all zero).
double headroom_log2(const Format& storage, double max_magnitude);

}  // namespace fpaudit
