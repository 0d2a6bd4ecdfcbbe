#include "graph/einsum.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace fpaudit {

namespace {

constexpr int kLetters = 52;

/// 'A'..'Z' → 0..25, 'a'..'z' → 26..51 (ASCII order, which the implicit output follows); -1 else.
int letter_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

/// One term as letter indices, with kEllipsis where "..." stands.
constexpr int kEllipsis = -2;

bool read_term(std::string_view t, std::vector<int>& out, std::string& problem) {
  bool ellipsis = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '.') {
      if (ellipsis || t.substr(i, 3) != "...") {
        problem = fmt::format("term '{}' has a '.' that is not one '...'", t);
        return false;
      }
      ellipsis = true;
      out.push_back(kEllipsis);
      i += 2;
      continue;
    }
    const int l = letter_index(t[i]);
    if (l < 0) {
      problem = fmt::format("term '{}' has '{}', which is not a letter", t, t[i]);
      return false;
    }
    out.push_back(l);
  }
  return true;
}

}  // namespace

EinsumSpec parse_einsum(std::string_view equation, const std::vector<Shape>& operands, std::string& problem) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq.push_back(c);
  const std::size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::vector<int>> terms;
  for (std::size_t start = 0;;) {
    const std::size_t comma = lhs.find(',', start);
    terms.emplace_back();
    if (!read_term(std::string_view(lhs).substr(start, comma == std::string::npos ? std::string::npos : comma - start),
                   terms.back(), problem))
      return {};
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != operands.size()) {
    problem = fmt::format("equation '{}' has {} operand terms for {} inputs", equation, terms.size(), operands.size());
    return {};
  }

  // Letters by first appearance; the ellipsis rank is the longest any operand gives it.
  std::array<int, kLetters> label_of{};
  label_of.fill(-1);
  std::array<int, kLetters> count{};
  EinsumSpec s;
  std::size_t ellipsis_rank = 0;
  for (std::size_t k = 0; k < terms.size(); ++k) {
    std::size_t letters = 0;
    bool has_ellipsis = false;
    for (int l : terms[k]) {
      if (l == kEllipsis) {
        has_ellipsis = true;
        continue;
      }
      ++letters;
      ++count[static_cast<std::size_t>(l)];
      if (label_of[static_cast<std::size_t>(l)] < 0) {
        label_of[static_cast<std::size_t>(l)] = static_cast<int>(s.size.size());
        s.size.push_back(-1);
      }
    }
    const std::size_t rank = operands[k].size();
    if (has_ellipsis ? letters > rank : letters != rank) {
      problem = fmt::format("operand {} has rank {}, but its term names {} axes{}", k + 1, rank, letters,
                            has_ellipsis ? " besides '...'" : "");
      return {};
    }
    if (has_ellipsis) ellipsis_rank = std::max(ellipsis_rank, rank - letters);
  }
  const int first_ellipsis = static_cast<int>(s.size.size());
  s.size.resize(s.size.size() + ellipsis_rank, 1);

  // Each operand's axes as labels; extents must agree (ellipsis axes broadcast from 1).
  for (std::size_t k = 0; k < terms.size(); ++k) {
    const Shape& shape = operands[k];
    const std::size_t letters = static_cast<std::size_t>(std::count_if(terms[k].begin(), terms[k].end(), [](int l) { return l != kEllipsis; }));
    const std::size_t own_ellipsis = shape.size() - letters;
    std::vector<int> labels;
    for (int l : terms[k]) {
      if (l != kEllipsis) {
        labels.push_back(label_of[static_cast<std::size_t>(l)]);
        continue;
      }
      for (std::size_t e = 0; e < own_ellipsis; ++e) labels.push_back(first_ellipsis + static_cast<int>(ellipsis_rank - own_ellipsis + e));
    }
    for (std::size_t d = 0; d < shape.size(); ++d) {
      std::int64_t& extent = s.size[static_cast<std::size_t>(labels[d])];
      const bool ellipsis_axis = labels[d] >= first_ellipsis;
      if (extent < 0 || (ellipsis_axis && extent == 1)) {
        extent = shape[d];
      } else if (extent != shape[d] && !(ellipsis_axis && shape[d] == 1)) {
        problem = fmt::format("operand {} {}: axis {} has extent {}, where the equation's label has {}", k + 1,
                              shape_string(shape), d, shape[d], extent);
        return {};
      }
    }
    s.operand_labels.push_back(std::move(labels));
  }

  // The output: explicit after "->", or the ellipsis axes then the letters used once, sorted.
  std::vector<bool> in_output(s.size.size(), false);
  auto add_output = [&](int label) {
    s.output_labels.push_back(label);
    in_output[static_cast<std::size_t>(label)] = true;
  };
  if (arrow == std::string::npos) {
    for (std::size_t e = 0; e < ellipsis_rank; ++e) add_output(first_ellipsis + static_cast<int>(e));
    for (int l = 0; l < kLetters; ++l)
      if (count[static_cast<std::size_t>(l)] == 1) add_output(label_of[static_cast<std::size_t>(l)]);
  } else {
    std::vector<int> out;
    const std::string rhs = eq.substr(arrow + 2);
    if (!read_term(rhs, out, problem)) return {};
    for (int l : out) {
      if (l == kEllipsis) {
        for (std::size_t e = 0; e < ellipsis_rank; ++e) add_output(first_ellipsis + static_cast<int>(e));
        continue;
      }
      const int label = label_of[static_cast<std::size_t>(l)];
      if (label < 0) {
        problem = fmt::format("output '{}' names a letter no operand has", rhs);
        return {};
      }
      if (in_output[static_cast<std::size_t>(label)]) {
        problem = fmt::format("output '{}' repeats a letter", rhs);
        return {};
      }
      add_output(label);
    }
  }
  for (std::size_t l = 0; l < s.size.size(); ++l)
    if (!in_output[l]) s.summed_labels.push_back(static_cast<int>(l));
  for (int l : s.output_labels) s.output_shape.push_back(s.size[static_cast<std::size_t>(l)]);
  return s;
}

}  // namespace fpaudit
