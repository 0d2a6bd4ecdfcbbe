// The text of fpaudit convert: the keep list in (a file advise writes, or a comma list), the
// summary and the block lists for other tools out.
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "convert/half_convert.h"
#include "graph/graph.h"

namespace fpaudit {

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

/// A Python string literal: single quotes, with backslash and quote escaped.
std::string python_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

/// One shell word: as is when it holds only characters no shell treats specially, otherwise
/// single-quoted (a quote inside written as '\'').
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-:+=@%,") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

std::vector<std::string> parse_keep_list(const std::string& text) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!text.empty() && std::filesystem::is_regular_file(text, ec)) {
    std::ifstream in(text);
    if (!in) throw ModelError(fmt::format("{}: cannot read the keep list", text));
    std::string line;
    while (std::getline(in, line)) {
      const std::string name = trim(line.substr(0, line.find('#')));
      if (!name.empty()) names.push_back(name);
    }
    return names;
  }
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ','))
    if (!trim(item).empty()) names.push_back(trim(item));
  return names;
}

std::string convert_summary(const ConvertResult& r, const std::string& out, DType target) {
  const std::string format = target == DType::BFloat16 ? "bfloat16" : "binary16";
  auto plural = [](std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; };
  std::string s = fmt::format(
      "wrote {}: {} nodes in {}, {} kept in float32, {} Cast nodes at the boundaries; {} float32 constants stored in {}, "
      "{} left in float32\n",
      out, r.converted_nodes, format, r.kept.size(), r.cast_nodes, r.converted_constants, format, r.float32_constants);
  for (const std::string& k : r.kept) s += fmt::format("  kept in float32: {}\n", k);
  for (const OverflowingWeight& w : r.overflowing)
    s += fmt::format("  weight '{}': {} element{} above {}'s largest finite value (max |w| = {:.6g}): kept in float32 behind a "
                     "Cast, which overflows to inf at run time in {}; keep {} in float32 to avoid it\n",
                     w.name, w.elements_over, plural(static_cast<std::size_t>(w.elements_over), "", "s"), format, w.max_magnitude,
                     fmt::join(w.consumers, ", "), plural(w.consumers.size(), "it", "them"));
  const std::size_t n = r.float32_by_schema.size();
  if (n > 0)
    s += fmt::format("  {} node{} stay float32: {} operator{} take{} no {} at the model's opset: {}\n", n, plural(n, "", "s"),
                     plural(n, "its", "their"), plural(n, "", "s"), plural(n, "s", ""), format, fmt::join(r.float32_by_schema, ", "));
  if (r.dropped_nodes > 0)
    s += fmt::format("  {} node{} feeding no graph output dropped\n", r.dropped_nodes,
                     plural(static_cast<std::size_t>(r.dropped_nodes), "", "s"));
  return s;
}

std::string block_lists_text(const std::vector<std::string>& kept) {
  std::string python, polygraphy, autocast;
  for (const std::string& k : kept) {
    if (!python.empty()) python += ", ";
    python += python_literal(k);
    polygraphy += ' ';
    polygraphy += shell_word(k + ":float32");
    autocast += ' ';
    autocast += shell_word(k);
  }
  return fmt::format(
      "# The {} node{} kept in float32, in the forms other tools take.\n"
      "# onnxconverter-common: float16.convert_float_to_float16(model, node_block_list=node_block_list)\n"
      "node_block_list=[{}]\n"
      "# Polygraphy (TensorRT layer names are the ONNX node names): polygraphy run model.onnx --trt --fp16 "
      "--precision-constraints obey ...\n"
      "--layer-precisions{}\n"
      "# ModelOpt AutoCast: python -m modelopt.onnx.autocast --onnx_path model.onnx ...\n"
      "--nodes_to_exclude{}\n",
      kept.size(), kept.size() == 1 ? "" : "s", python, polygraphy.empty() ? "" : polygraphy, autocast);
}

}  // namespace fpaudit
