#include "report/modules.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace fpaudit {

namespace {

/// "/blocks/blocks.0/norm1/Pow" → "/blocks/blocks.0/norm1"; "" for a name without a parent.
std::string parent_path(const std::string& name) {
  const std::size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

std::map<std::string, int> op_counts(const std::vector<std::string>& ops) {
  std::map<std::string, int> n;
  for (const std::string& op : ops) ++n[op];
  return n;
}

bool only_from(const std::map<std::string, int>& n, std::initializer_list<const char*> allowed) {
  return std::all_of(n.begin(), n.end(), [&](const auto& kv) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return kv.first == a; });
  });
}

int count_of(const std::map<std::string, int>& n, const char* op) {
  const auto it = n.find(op);
  return it == n.end() ? 0 : it->second;
}

bool is_layer_norm(const std::map<std::string, int>& n) {
  return count_of(n, "ReduceMean") == 2 && count_of(n, "Sub") == 1 && count_of(n, "Pow") == 1 && count_of(n, "Sqrt") == 1 &&
         count_of(n, "Div") == 1 && count_of(n, "Add") >= 1 && only_from(n, {"ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div", "Mul"});
}

bool is_gelu(const std::map<std::string, int>& n) {
  return count_of(n, "Erf") == 1 && count_of(n, "Div") + count_of(n, "Mul") >= 2 && only_from(n, {"Div", "Erf", "Add", "Mul"});
}

bool is_attention(const std::map<std::string, int>& n) {
  return count_of(n, "Softmax") == 1 && count_of(n, "MatMul") == 2 &&
         only_from(n, {"MatMul", "Softmax", "Mul", "Div", "Add", "Transpose", "Reshape", "Gather", "Split", "Slice", "Squeeze",
                       "Unsqueeze", "Concat"});
}

/// The layers [first, first + length) as a Module named after its first layer.
Module pattern_module(const std::vector<LayerView>& layers, std::size_t first, std::size_t length, const char* kind) {
  Module m{layers[first].name, kind, {}};
  for (std::size_t i = first; i < first + length; ++i) m.layers.push_back(static_cast<int>(i));
  return m;
}

/// The length of a pattern starting at `i` among layers [i, end), or 0. Exporters write these
/// operators consecutively; the windows are the exact lengths the patterns can have.
std::size_t match_at(const std::vector<LayerView>& layers, std::size_t i, std::size_t end, const char** kind) {
  auto window = [&](std::size_t length) {
    std::vector<std::string> ops;
    for (std::size_t k = i; k < i + length && k < end; ++k) ops.push_back(layers[k].op);
    return op_counts(ops);
  };
  auto fits = [&](std::size_t length) { return i + length <= end; };
  const std::string& op = layers[i].op;
  if (op == "ReduceMean") {
    // The core (ReduceMean Sub Pow ReduceMean Add Sqrt Div), then the affine Mul and Add if both follow.
    if (fits(7) && is_layer_norm(window(7))) {
      *kind = "LayerNorm";
      const bool affine = fits(9) && layers[i + 7].op == "Mul" && layers[i + 8].op == "Add";
      return affine ? 9 : 7;
    }
  }
  if ((op == "Div" || op == "Mul") && fits(5) && is_gelu(window(5))) {
    *kind = "GELU";
    return 5;
  }
  if (op == "Transpose" || op == "MatMul") {
    // [Transpose]... MatMul, scaling (Mul, Div) or a mask (Add), Softmax, MatMul.
    std::size_t k = i;
    while (k < end && layers[k].op == "Transpose") ++k;
    if (k >= end || layers[k].op != "MatMul") return 0;
    ++k;
    while (k < end && (layers[k].op == "Mul" || layers[k].op == "Div" || layers[k].op == "Add")) ++k;
    if (k + 1 < end && layers[k].op == "Softmax" && layers[k + 1].op == "MatMul") {
      *kind = "attention";
      return k + 2 - i;
    }
  }
  return 0;
}

}  // namespace

std::string module_kind(const std::vector<std::string>& ops) {
  const std::map<std::string, int> n = op_counts(ops);
  if (ops.size() == 1) {
    // The long ONNX names, shortened as people say them.
    static const std::map<std::string, std::string> kShort = {{"BatchNormalization", "BatchNorm"},
                                                              {"LayerNormalization", "LayerNorm"},
                                                              {"InstanceNormalization", "InstanceNorm"},
                                                              {"GlobalAveragePool", "GlobalAvgPool"}};
    const auto it = kShort.find(ops[0]);
    return it == kShort.end() ? ops[0] : it->second;
  }
  if (is_layer_norm(n)) return "LayerNorm";
  if (is_gelu(n)) return "GELU";
  if (is_attention(n)) return "attention";
  if ((count_of(n, "MatMul") == 1 || count_of(n, "Gemm") == 1) && only_from(n, {"MatMul", "Gemm", "Add"})) return "linear";
  // Otherwise the operators, in first-seen order, or their count when that is too long to read.
  std::string kind;
  std::vector<std::string> seen;
  for (const std::string& op : ops) {
    if (std::find(seen.begin(), seen.end(), op) != seen.end()) continue;
    seen.push_back(op);
    kind += (kind.empty() ? "" : "+") + op;
  }
  return kind.size() <= 16 ? kind : std::to_string(ops.size()) + " ops";
}

std::vector<Module> group_modules(const std::vector<LayerView>& layers) {
  // 1. Runs of consecutive layers with the same non-empty parent path. A run that would hold
  //    every layer (a model whose nodes all live in one folder) says nothing and is not formed.
  const bool one_folder = std::all_of(layers.begin(), layers.end(),
                                      [&](const LayerView& l) { return parent_path(l.name) == parent_path(layers[0].name); });
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // [first, end)
  for (std::size_t i = 0; i < layers.size();) {
    const std::string parent = parent_path(layers[i].name);
    std::size_t j = i + 1;
    if (!parent.empty() && !one_folder)
      while (j < layers.size() && parent_path(layers[j].name) == parent) ++j;
    runs.push_back({i, j});
    i = j;
  }
  std::vector<Module> modules;
  auto kind_of = [&](std::size_t first, std::size_t end) {
    std::vector<std::string> ops;
    for (std::size_t k = first; k < end; ++k) ops.push_back(layers[k].op);
    return module_kind(ops);
  };
  for (std::size_t r = 0; r < runs.size();) {
    const auto [first, end] = runs[r];
    if (end - first > 1) {
      Module m{parent_path(layers[first].name), kind_of(first, end), {}};
      for (std::size_t k = first; k < end; ++k) m.layers.push_back(static_cast<int>(k));
      modules.push_back(std::move(m));
      ++r;
      continue;
    }
    // 2. A stretch of single layers: look for the operator patterns in it.
    std::size_t stretch_end = r;
    while (stretch_end < runs.size() && runs[stretch_end].second - runs[stretch_end].first == 1) ++stretch_end;
    const std::size_t end_layer = runs[stretch_end - 1].second;
    for (std::size_t i = first; i < end_layer;) {
      const char* kind = nullptr;
      const std::size_t length = match_at(layers, i, end_layer, &kind);
      if (length > 0) {
        modules.push_back(pattern_module(layers, i, length, kind));
        i += length;
      } else {
        modules.push_back(Module{layers[i].name, module_kind({layers[i].op}), {static_cast<int>(i)}});
        ++i;
      }
    }
    r = stretch_end;
  }
  return modules;
}

ModuleStats module_stats(const AuditDocument& doc, const Module& m, std::size_t chain) {
  ModuleStats s;
  s.headroom_log2 = INFINITY;
  for (const int l : m.layers) {
    const LayerView& layer = doc.layers[l];
    const LayerChainView& st = layer.chains[chain];
    if (!layer.exact_op) {
      s.computes = true;
      if (st.local.abs.count && std::isfinite(st.local.normwise_max) && (s.local_layer < 0 || st.local.normwise_max > s.local_rel)) {
        s.local_rel = st.local.normwise_max;
        s.local_layer = l;
      }
      if (st.local_bound.checked) {
        s.local_ratio = s.local_bounded ? std::max(s.local_ratio, st.local_bound.ratio.max) : st.local_bound.ratio.max;
        s.local_bounded = true;
      }
      if (st.propagated_bound.checked) {
        s.propagated_ratio = s.propagated_bounded ? std::max(s.propagated_ratio, st.propagated_bound.ratio.max) : st.propagated_bound.ratio.max;
        s.propagated_bounded = true;
      }
    }
    s.violations += st.local_bound.violations + st.propagated_bound.violations;
    s.nonfinite = std::max<std::uint64_t>(s.nonfinite, st.events.overflow + st.events.nan);
    s.headroom_log2 = std::min(s.headroom_log2, st.events.headroom_log2);
  }
  const LayerChainView& out = doc.layers[m.layers.back()].chains[chain];
  s.propagated_measured = out.propagated.abs.count > 0;
  s.propagated_abs = out.propagated.abs.max;
  s.propagated_rel = out.propagated.normwise_max;
  return s;
}

double summed_local_rel(const AuditDocument& doc, std::size_t chain) {
  double sum = 0;
  for (const LayerView& layer : doc.layers) {
    const ErrorView& e = layer.chains[chain].local;
    if (!layer.exact_op && e.abs.count && std::isfinite(e.normwise_max)) sum += e.normwise_max;
  }
  return sum;
}

int worst_local_layer(const AuditDocument& doc, std::size_t c) {
  int worst = -1;
  for (std::size_t l = 0; l < doc.layers.size(); ++l) {
    const ErrorView& e = doc.layers[l].chains[c].local;
    if (doc.layers[l].exact_op || !e.abs.count || !(e.normwise_max > 0) || !std::isfinite(e.normwise_max)) continue;
    if (worst < 0 || e.normwise_max > doc.layers[static_cast<std::size_t>(worst)].chains[c].local.normwise_max) worst = static_cast<int>(l);
  }
  return worst;
}

}  // namespace fpaudit
