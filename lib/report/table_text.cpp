// The three text spellings of a Table: Markdown, LaTeX (booktabs) and CSV.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "report/number_text.h"
#include "report/table.h"

namespace fpaudit {

namespace {

/// Display width of UTF-8 text: code points, which is right for the Latin and Greek we print.
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, std::size_t w, bool right) {
  const std::string fill(w > width(s) ? w - width(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

std::string markdown_cell(const Cell& c) {
  std::string s = cell_text(c);
  std::string escaped;
  for (char ch : s) escaped += ch == '|' ? std::string("\\|") : std::string(1, ch);
  if (c.kind == CellKind::Code) escaped = "`" + escaped + "`";
  return c.mark == Mark::Strong || c.mark == Mark::Bad ? "**" + escaped + "**" : escaped;
}

std::string latex_cell(const Cell& c) {
  std::string s;
  switch (c.kind) {
    case CellKind::Text: s = latex_escape(cell_text(c)); break;
    case CellKind::Code: s = fmt::format("\\texttt{{{}}}", latex_escape(c.text)); break;
    case CellKind::Count: s = fmt::format("{:.0f}", c.value); break;
    case CellKind::Real: s = compact_latex(c.value); break;
    case CellKind::Fixed: s = fmt::format("{:.{}f}", c.value, c.decimals); break;
    case CellKind::Percent: s = std::isfinite(c.value) ? percent_number(c.value, c.decimals) + "\\%" : "--"; break;
    case CellKind::Change: s = std::isfinite(c.value) ? fmt::format("${:+.{}f}$", c.value, c.decimals) : "--"; break;
    case CellKind::Missing: s = c.text.empty() ? "--" : latex_escape(c.text); break;
  }
  // \boldmath makes the math of a scientific number bold too.
  return c.mark == Mark::Strong || c.mark == Mark::Bad ? fmt::format("\\textbf{{\\boldmath {}}}", s) : s;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

/// "local error" + "abs max" → "local_error_abs_max"; letters and digits kept, the rest '_'.
std::string snake(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch)) out += static_cast<char>(std::tolower(ch));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

/// Runs of adjacent columns sharing a group: (first, count, group).
struct GroupSpan {
  std::size_t first, count;
  std::string group;
};
std::vector<GroupSpan> group_spans(const std::vector<Column>& cols) {
  std::vector<GroupSpan> spans;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (!spans.empty() && spans.back().group == cols[i].group) ++spans.back().count;
    else spans.push_back({i, 1, cols[i].group});
  }
  return spans;
}

}  // namespace

Cell Cell::of_chain(const std::string& name) {
  Cell c = of_text(name);
  if (std::string label = chain_label(name); label != name) c.shown = std::move(label);
  return c;
}

std::string chain_label(const std::string& name) {
  // Room for a named chain with a schedule and a few selectors ("fp16+fp32:Softmax,LayerNorm...").
  constexpr std::size_t kLongest = 40, kSelectorChars = 28;
  if (name.size() <= kLongest) return name;
  const std::size_t colon = name.find(':');
  if (colon == std::string::npos) return "~" + name.substr(name.size() - (kLongest - 1));
  // Selectors hold no commas (node names with commas cannot be selected), so commas split them.
  std::string first = name.substr(colon + 1, name.find(',', colon + 1) - (colon + 1));
  const auto more = std::count(name.begin() + static_cast<std::ptrdiff_t>(colon), name.end(), ',');
  if (first.size() > kSelectorChars) first = "~" + first.substr(first.size() - (kSelectorChars - 1));
  std::string label = name.substr(0, colon + 1) + first;
  if (more > 0) label += fmt::format(" +{} more", more);
  return label;
}

std::string cell_text(const Cell& c) {
  switch (c.kind) {
    case CellKind::Text: return c.shown.empty() ? c.text : c.shown;
    case CellKind::Code: return c.text;
    case CellKind::Count: return fmt::format("{:.0f}", c.value);
    case CellKind::Real: return compact_text(c.value);
    case CellKind::Fixed: return fmt::format("{:.{}f}", c.value, c.decimals);
    case CellKind::Percent: return std::isfinite(c.value) ? percent_text(c.value, c.decimals) : "–";
    case CellKind::Change: return std::isfinite(c.value) ? fmt::format("{:+.{}f}", c.value, c.decimals) : "–";
    case CellKind::Missing: return c.text.empty() ? "–" : c.text;
  }
  return {};
}

std::string latex_escape(const std::string& s) {
  // The non-ASCII characters report texts use, in math mode: pdfLaTeX has no glyph for them.
  static const std::pair<std::string_view, std::string_view> kUnicode[] = {
      {"Γ", "$\\Gamma$"}, {"Δ", "$\\Delta$"}, {"δ", "$\\delta$"}, {"λ", "$\\lambda$"}, {"‖", "$\\|$"},
      {"−", "$-$"},        {"₂", "$_2$"},        {"≤", "$\\le$"},   {"≥", "$\\ge$"},   {"→", "$\\to$"},
      {"–", "--"},         {"—", "---"},         {"…", "\\dots{}"}};
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (static_cast<unsigned char>(ch) >= 0x80) {
      bool replaced = false;
      for (const auto& [from, to] : kUnicode) {
        if (s.compare(i, from.size(), from) != 0) continue;
        out += to;
        i += from.size() - 1;
        replaced = true;
        break;
      }
      if (!replaced) out += ch;
      continue;
    }
    switch (ch) {
      case '\\': out += "\\textbackslash{}"; break;
      case '{': case '}': case '$': case '&': case '#': case '_': case '%': out += '\\'; out += ch; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '~': out += "\\textasciitilde{}"; break;
      // In LaTeX's default (OT1) text font these three print other glyphs (¡, ¿, —).
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      case '|': out += "\\textbar{}"; break;
      default: out += ch;
    }
  }
  return out;
}

namespace {

/// A cell that shows nothing a reader needs: missing without a reason, empty text, or a count or
/// measured value of exactly zero.
bool says_nothing(const Cell& c) {
  switch (c.kind) {
    case CellKind::Missing: return c.text.empty();
    case CellKind::Text: return c.text.empty();
    case CellKind::Count:
    case CellKind::Real:
    case CellKind::Percent: return c.value == 0 && c.mark == Mark::None;
    default: return false;
  }
}

}  // namespace

std::vector<std::string> drop_empty_columns(Table& t) {
  std::vector<std::string> dropped;
  for (std::size_t i = t.columns.size(); i-- > 0;) {
    if (!t.columns[i].optional || t.rows.empty()) continue;
    if (!std::all_of(t.rows.begin(), t.rows.end(), [&](const std::vector<Cell>& r) { return i < r.size() && says_nothing(r[i]); }))
      continue;
    const Column& c = t.columns[i];
    dropped.insert(dropped.begin(), c.group.empty() ? c.title : c.group + " " + c.title);
    t.columns.erase(t.columns.begin() + static_cast<std::ptrdiff_t>(i));
    for (auto& r : t.rows) r.erase(r.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (!dropped.empty())
    t.notes.push_back(fmt::format("Not shown, zero or empty in every row: {}.", fmt::join(dropped, ", ")));
  return dropped;
}

std::string table_markdown(const Table& t) {
  // Markdown has no spanning headers: the group prefixes the title ("local abs max").
  std::vector<std::string> head;
  for (const Column& c : t.columns) head.push_back(c.group.empty() ? c.title : c.group + " " + c.title);
  std::vector<std::vector<std::string>> body;
  std::vector<std::size_t> w(t.columns.size(), 3);
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = std::max(w[i], width(head[i]));
  for (const auto& row : t.rows) {
    body.emplace_back();
    for (std::size_t i = 0; i < row.size(); ++i) {
      body.back().push_back(markdown_cell(row[i]));
      w[i] = std::max(w[i], width(body.back().back()));
    }
  }
  std::string out;
  if (!t.caption.empty()) out += "**" + t.caption + "**\n\n";
  auto line = [&](const std::vector<std::string>& cells) {
    out += "|";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += ' ';
      out += pad(cells[i], w[i], t.columns[i].numeric);
      out += " |";
    }
    out += "\n";
  };
  line(head);
  out += "|";
  for (std::size_t i = 0; i < w.size(); ++i) {
    // ---: right-aligned, :--- left-aligned; the colon takes the place of the padding space.
    const std::string dashes(w[i] + 1, '-');
    out += t.columns[i].numeric ? dashes + ":|" : ":" + dashes + "|";
  }
  out += "\n";
  for (const auto& row : body) line(row);
  for (const std::string& n : t.notes) out += "\n" + n + "\n";
  return out;
}

std::string table_terminal(const Table& t, bool colour, std::size_t name_width) {
  const std::size_t n = t.columns.size();
  std::vector<std::vector<std::string>> body;
  std::vector<std::size_t> w(n, 0);
  for (std::size_t i = 0; i < n; ++i) w[i] = width(t.columns[i].title);
  for (const auto& row : t.rows) {
    body.emplace_back();
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string s = cell_text(row[i]);
      if (row[i].kind == CellKind::Code && s.size() > name_width) s = std::string(1, '~').append(s, s.size() - (name_width - 1));
      w[i] = std::max(w[i], width(s));
      body.back().push_back(std::move(s));
    }
  }
  // A group header spans its columns: centred and filled with dashes, as wide as they are.
  const std::vector<GroupSpan> spans = group_spans(t.columns);
  for (const GroupSpan& g : spans) {
    if (g.group.empty()) continue;
    std::size_t span = g.count - 1;
    for (std::size_t i = g.first; i < g.first + g.count; ++i) span += w[i];
    const std::size_t need = width(g.group) + 2;
    if (span < need) w[g.first + g.count - 1] += need - span;
  }
  std::string out;
  if (std::any_of(spans.begin(), spans.end(), [](const GroupSpan& g) { return !g.group.empty(); })) {
    std::string line = " ";
    for (const GroupSpan& g : spans) {
      std::size_t span = g.count - 1;
      for (std::size_t i = g.first; i < g.first + g.count; ++i) span += w[i];
      if (g.group.empty()) {
        line.append(span + 1, ' ');
        continue;
      }
      std::string label(1, ' ');
      label += g.group;
      label += ' ';
      const std::size_t left = (span - width(label)) / 2;
      line += ' ';
      line.append(left, '-');
      line += label;
      line.append(span - width(label) - left, '-');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<Cell>* marks) {
    std::string s = " ";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // The last column is not padded on the left-aligned side: no trailing spaces, coloured or not.
      std::string cell = i + 1 == cells.size() && !t.columns[i].numeric ? cells[i] : pad(cells[i], w[i], t.columns[i].numeric);
      const Mark m = marks ? (*marks)[i].mark : Mark::None;
      const char* code = m == Mark::Bad ? "\033[31m" : m == Mark::Warn ? "\033[33m" : m == Mark::Strong ? "\033[1m" : nullptr;
      s += ' ';
      if (colour && code) {
        s += code;
        s += cell;
        s += "\033[0m";
      } else {
        s += cell;
      }
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out += s + "\n";
  };
  std::vector<std::string> titles;
  for (const Column& c : t.columns) titles.push_back(c.title);
  line(titles, nullptr);
  for (std::size_t r = 0; r < body.size(); ++r) line(body[r], &t.rows[r]);
  return out;
}

std::string table_latex(const Table& t) {
  std::string spec;
  for (const Column& c : t.columns) spec += c.numeric ? 'r' : 'l';
  std::string out = "\\begin{table}[htbp]\n\\centering\n\\small\n";
  if (!t.caption.empty()) out += "\\caption{" + (t.caption_latex.empty() ? latex_escape(t.caption) : t.caption_latex) + "}\n";
  if (!t.label.empty()) out += "\\label{" + t.label + "}\n";
  out += "\\begin{tabular}{" + spec + "}\n\\toprule\n";
  const std::vector<GroupSpan> spans = group_spans(t.columns);
  const bool grouped = std::any_of(t.columns.begin(), t.columns.end(), [](const Column& c) { return !c.group.empty(); });
  if (grouped) {
    std::string rules;
    for (std::size_t s = 0; s < spans.size(); ++s) {
      const GroupSpan& g = spans[s];
      out += s ? " & " : "";
      if (g.group.empty()) {
        out += std::string(g.count - 1, '&');
        continue;
      }
      out += fmt::format("\\multicolumn{{{}}}{{c}}{{{}}}", g.count, latex_escape(g.group));
      rules += fmt::format("\\cmidrule(lr){{{}-{}}}", g.first + 1, g.first + g.count);
    }
    out += " \\\\\n" + rules + "\n";
  }
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    out += (i ? " & " : "") + (t.columns[i].latex.empty() ? latex_escape(t.columns[i].title) : t.columns[i].latex);
  out += " \\\\\n\\midrule\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    if (r > 0 && std::find(t.rules.begin(), t.rules.end(), r) != t.rules.end()) out += "\\midrule\n";
    for (std::size_t i = 0; i < t.rows[r].size(); ++i) out += (i ? " & " : "") + latex_cell(t.rows[r][i]);
    out += " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n";
  if (!t.notes.empty()) {
    out += "\\par\\smallskip\\footnotesize\n";
    for (const std::string& n : t.notes) out += latex_escape(n) + "\n";
  }
  out += "\\end{table}\n";
  return out;
}

std::string table_csv(const Table& t) {
  std::string out;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    if (i) out += ',';
    out += c.csv_name.empty() ? snake(c.group + " " + c.title) : c.csv_name;
  }
  out += "\n";
  for (const auto& row : t.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Cell& c = row[i];
      std::string v;
      switch (c.kind) {
        case CellKind::Text:
        case CellKind::Code: v = csv_quote(c.text); break;
        case CellKind::Count: v = fmt::format("{:.0f}", c.value); break;
        case CellKind::Real:
        case CellKind::Fixed:
        case CellKind::Percent:  // the fraction itself: a spreadsheet formats it
        case CellKind::Change: v = roundtrip_text(c.value); break;
        case CellKind::Missing: break;  // an empty field reads as missing in every CSV reader
      }
      out += (i ? "," : "") + v;
    }
    out += "\n";
  }
  return out;
}

}  // namespace fpaudit
