// A table as data: columns, rows of typed cells, groups and notes, with no format in it. The
// per-layer, summary and comparison tables are built once as a Table, and each output format
// (Markdown, LaTeX booktabs, CSV, HTML) spells it its own way: a number stays a number until
// the last step, so LaTeX gets 1.78\times10^{-5} and CSV the round-trip value.
#pragma once

#include <string>
#include <vector>

namespace fpaudit {

enum class CellKind {
  Text,     ///< plain text
  Code,     ///< an identifier (layer name): `code` in Markdown, \texttt in LaTeX
  Count,    ///< an integer
  Real,     ///< a measured value, 3 significant digits
  Fixed,    ///< a value with `decimals` digits after the point (seconds)
  Percent,  ///< a fraction shown as a percentage with `decimals` digits
  Change,   ///< a signed difference in percentage points (+0.5, -1.2)
  Missing,  ///< nothing to show: `text` says why ("exact", "no bound"), empty for a dash
};

/// What a reader should notice. Markdown and LaTeX make Strong and Bad bold; HTML colours them.
enum class Mark {
  None,
  Strong,  ///< the cell that answers the table's question (the layer creating most error)
  Warn,    ///< close to a limit (an observed error above half its bound)
  Bad,     ///< a limit crossed (a bound violated, an overflow)
};

struct Cell {
  CellKind kind = CellKind::Missing;
  std::string text;
  double value = 0;
  int decimals = 1;
  Mark mark = Mark::None;
  double heat = -1;  ///< 0..1: HTML shades the cell by it (how much of the largest value it is); -1: none
  /// What a Text cell shows where it differs from `text` (a long chain name's label); CSV and
  /// the HTML tooltip keep `text` whole. Empty: `text` itself.
  std::string shown = {};

  static Cell of_text(std::string t) { return {CellKind::Text, std::move(t)}; }
  static Cell of_code(std::string t) { return {CellKind::Code, std::move(t)}; }
  /// A chain's name, shown as chain_label(name).
  static Cell of_chain(const std::string& name);
  static Cell of_count(double v) { return {CellKind::Count, {}, v}; }
  static Cell of_real(double v) { return {CellKind::Real, {}, v}; }
  static Cell of_fixed(double v, int decimals) { return {CellKind::Fixed, {}, v, decimals}; }
  static Cell of_percent(double fraction, int decimals = 1) { return {CellKind::Percent, {}, fraction, decimals}; }
  static Cell of_change(double points, int decimals = 1) { return {CellKind::Change, {}, points, decimals}; }
  static Cell missing(std::string why = {}) { return {CellKind::Missing, std::move(why)}; }
  Cell& marked(Mark m) {
    mark = m;
    return *this;
  }
};

struct Column {
  std::string title;     ///< plain text, may hold Unicode (Γ, δ)
  std::string latex;     ///< the title in LaTeX; empty: the escaped plain title
  std::string group;     ///< columns with the same adjacent group share a spanning header
  bool numeric = true;   ///< right-aligned
  std::string csv_name;  ///< the CSV header; empty: derived from group and title
  bool optional = false; ///< drop_empty_columns may remove it when no row has anything in it

  Column(std::string title_, std::string latex_ = {}, std::string group_ = {}, bool numeric_ = true, std::string csv_name_ = {})
      : title(std::move(title_)), latex(std::move(latex_)), group(std::move(group_)), numeric(numeric_), csv_name(std::move(csv_name_)) {}
};

struct Table {
  std::string caption;      ///< plain text
  std::string caption_latex;  ///< empty: the escaped plain caption
  std::string label;        ///< LaTeX \label and HTML id (letters, digits, '-' and ':')
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  std::vector<std::size_t> rules;  ///< a rule (\midrule) before each of these row positions
  std::vector<std::string> notes;  ///< plain-text footnotes, one sentence each
};

/// Removes every `optional` column whose cells are all zero (count, measured value, share)
/// without a mark, empty text, or missing without a reason, and adds one note naming them, so
/// a reader learns they were zero rather than forgotten. Returns the titles removed.
std::vector<std::string> drop_empty_columns(Table& t);

/// GitHub-flavoured Markdown, columns padded so the source reads as a table too.
std::string table_markdown(const Table& t);
/// A booktabs table environment (needs \usepackage{booktabs}), with \cmidrule group headers.
std::string table_latex(const Table& t);
/// One header line (csv_name or "group title" in snake case), then one line per row.
std::string table_csv(const Table& t);

/// Aligned plain text for a terminal: a line of group headers, a line of titles, one line per
/// row, each indented by two spaces; code cells (names) longer than `name_width` keep their
/// tail ("~ocks.0/attn/MatMul"). With `colour`, Bad cells are red, Warn yellow, Strong bold.
/// Notes are not printed (the caller words them for the terminal).
std::string table_terminal(const Table& t, bool colour, std::size_t name_width);

/// A chain's name short enough for a table cell or a heading: a plain name as it is; a mixed
/// chain with many selectors, as `fpaudit advise` writes them, as its arithmetics, its first
/// selector (its tail, "~" in front, when long) and how many more it has:
/// "fp16+fp32:~features.0.0/Conv +111 more". Files meant for machines keep the whole name.
std::string chain_label(const std::string& name);

/// The text of a cell in Markdown/plain text ("1.78e-5", "97.5%", "+0.5", "exact", "–").
std::string cell_text(const Cell& c);
/// LaTeX special characters escaped (\ { } $ & # ^ _ % ~ < > |), and the few non-ASCII
/// characters report texts use (Γ δ ‖ − ₂ ≤ …) written as LaTeX.
std::string latex_escape(const std::string& s);

}  // namespace fpaudit
