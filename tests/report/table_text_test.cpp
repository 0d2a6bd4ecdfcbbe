// Numbers and tables as text: the compact number spelling at its edges, LaTeX escaping of every
// special character, and one small table in Markdown, LaTeX and CSV, worked out by hand.
#include <cmath>

#include <doctest/doctest.h>

#include "report/number_text.h"
#include "report/table.h"

using namespace fpaudit;

TEST_CASE("compact numbers: 3 significant digits, fixed point in [0.001, 100000)") {
  CHECK(compact_text(0) == "0");
  CHECK(compact_text(146.3) == "146");
  CHECK(compact_text(21.92) == "21.9");
  CHECK(compact_text(1.5) == "1.5");  // trailing zeros dropped
  CHECK(compact_text(2.0) == "2");
  CHECK(compact_text(0.00165) == "0.00165");
  CHECK(compact_text(0.001) == "0.001");
  CHECK(compact_text(0.0009999996) == "0.001");  // decided on the printed value
  CHECK(compact_text(0.00099) == "9.9e-4");
  CHECK(compact_text(2063.7) == "2064");
  CHECK(compact_text(65504) == "65504");
  CHECK(compact_text(99949) == "99949");
  CHECK(compact_text(99999.4) == "1e5");  // 3 significant digits round it up to 1.00e5
  CHECK(compact_text(1.78e-5) == "1.78e-5");
  CHECK(compact_text(3.4028234663852886e38) == "3.4e38");
  CHECK(compact_text(-0.5) == "-0.5");
  CHECK(compact_text(INFINITY) == "inf");
  CHECK(compact_text(-INFINITY) == "-inf");
  CHECK(compact_text(NAN) == "nan");

  CHECK(compact_latex(1.78e-5) == "$1.78{\\times}10^{-5}$");
  CHECK(compact_latex(21.9) == "21.9");
  CHECK(compact_latex(-0.5) == "$-0.5$");
  CHECK(compact_latex(INFINITY) == "$\\infty$");
  CHECK(compact_latex(NAN) == "NaN");

  CHECK(percent_text(0.975) == "97.5%");
  CHECK(percent_text(0.89, 2) == "89.00%");
  CHECK(percent_text(1) == "100.0%");
  CHECK(percent_text(0) == "0.0%");
}

TEST_CASE("a number that is not 1 never reads as 1, a share that is not all or none never as 100% or 0%") {
  // Ratios are read against 1 ("above 1 is a violation"): the digits that tell them apart stay.
  CHECK(compact_text(0.99996) == "0.99996");
  CHECK(compact_text(1.00004) == "1.00004");
  CHECK(compact_text(0.9996) == "0.9996");
  CHECK(compact_text(1.004) == "1.004");
  CHECK(compact_text(0.995) == "0.995");   // 3 digits already tell it from 1
  CHECK(compact_text(-0.99996) == "-0.99996");
  CHECK(compact_text(1) == "1");
  CHECK(compact_text(-1) == "-1");
  CHECK(compact_text(0.999996) == "0.999996");  // six decimals at most, then the distance from 1
  CHECK(compact_text(0.9999996) == "1-4e-7");
  CHECK(compact_text(1 + 0x1p-52) == "1+2.2e-16");  // the next double up
  CHECK(compact_text(1 - 0x1p-53) == "1-1.1e-16");
  CHECK(compact_text(-(1 - 0x1p-53)) == "-1+1.1e-16");
  CHECK(compact_text(-(1 + 0x1p-52)) == "-1-2.2e-16");
  CHECK(compact_latex(0.99996) == "0.99996");
  // Other values keep 3 significant digits.
  CHECK(compact_text(1.9996) == "2");
  CHECK(compact_text(9.99996) == "10");
  // Shares: 1999 of 2000 is not everyone, 1 of 20000 not no one.
  CHECK(percent_text(1999.0 / 2000) == "99.95%");
  CHECK(percent_text(19999.0 / 20000) == "99.995%");
  CHECK(percent_text(1.0 / 20000) == "0.01%");  // 0.005 rounds up at two decimals
  CHECK(percent_text(1.0 / 400000) == "0.0003%");
  CHECK(percent_text(0.9996, 2) == "99.96%");  // two decimals already say it
  CHECK(percent_text(0.99996, 2) == "99.996%");
  CHECK(percent_number(0.5) == "50.0");
  CHECK(percent_number(NAN) == "nan");
  CHECK(roundtrip_text(0.1) == "0.1");
  CHECK(roundtrip_text(5.960464477539063e-08) == "5.960464477539063e-08");
  CHECK(roundtrip_text(-INFINITY) == "-inf");
}

TEST_CASE("LaTeX escaping covers every special character") {
  CHECK(latex_escape("/net/net.1/Gemm") == "/net/net.1/Gemm");
  CHECK(latex_escape("a<b>c|d") == "a\\textless{}b\\textgreater{}c\\textbar{}d");
  CHECK(latex_escape("a_b%c&d#e$f{g}h") == "a\\_b\\%c\\&d\\#e\\$f\\{g\\}h");
  CHECK(latex_escape("~x^2\\y") == "\\textasciitilde{}x\\textasciicircum{}2\\textbackslash{}y");
  CHECK(latex_escape("Γ > 2δ, ‖y − r‖₂ ≤ 1 – ok…") == "$\\Gamma$ \\textgreater{} 2$\\delta$, $\\|$y $-$ r$\\|$$_2$ $\\le$ 1 -- ok\\dots{}");
  CHECK(latex_escape("naïve") == "naïve");  // other letters pass through (utf8 inputenc has them)
}

namespace {

/// Two groups, every kind of cell, a rule between two row groups, a note.
Table small_table() {
  Table t;
  t.caption = "A small table";
  t.label = "tab:small";
  t.columns = {{"layer", "", "", false}, {"abs max", "", "error"}, {"share", "", "error"}, {"δ", "$\\delta$", "", true, "delta"}};
  t.rows = {{Cell::of_code("/a_1|b"), Cell::of_real(1.78e-5), Cell::of_percent(0.975), Cell::of_change(-0.25, 2)},
            {Cell::of_text("x&y"), Cell::of_real(146.3).marked(Mark::Strong), Cell::missing("exact"), Cell::of_count(3)},
            {Cell::of_text("z"), Cell::missing(), Cell::of_fixed(1.25, 1).marked(Mark::Bad), Cell::of_real(NAN)}};
  t.rules = {2};
  t.notes = {"One note, 50% of it."};
  return t;
}

}  // namespace

TEST_CASE("a table in Markdown: padded columns, group prefixes, marks in bold") {
  CHECK(table_markdown(small_table()) ==
        "**A small table**\n\n"
        "| layer     | error abs max | error share |     δ |\n"
        "|:----------|--------------:|------------:|------:|\n"
        "| `/a_1\\|b` |       1.78e-5 |       97.5% | -0.25 |\n"
        "| x&y       |       **146** |       exact |     3 |\n"
        "| z         |             – |     **1.2** |   nan |\n"
        "\nOne note, 50% of it.\n");
}

TEST_CASE("a table in LaTeX: booktabs, spanning group header, escaped text, a rule between groups") {
  CHECK(table_latex(small_table()) ==
        "\\begin{table}[htbp]\n\\centering\n\\small\n\\caption{A small table}\n\\label{tab:small}\n"
        "\\begin{tabular}{lrrr}\n\\toprule\n"
        " & \\multicolumn{2}{c}{error} &  \\\\\n"
        "\\cmidrule(lr){2-3}\n"
        "layer & abs max & share & $\\delta$ \\\\\n\\midrule\n"
        "\\texttt{/a\\_1\\textbar{}b} & $1.78{\\times}10^{-5}$ & 97.5\\% & $-0.25$ \\\\\n"
        "x\\&y & \\textbf{\\boldmath 146} & exact & 3 \\\\\n"
        "\\midrule\n"
        "z & -- & \\textbf{\\boldmath 1.2} & NaN \\\\\n"
        "\\bottomrule\n\\end{tabular}\n"
        "\\par\\smallskip\\footnotesize\nOne note, 50\\% of it.\n"
        "\\end{table}\n");
}

TEST_CASE("a table in CSV: round-trip numbers, fractions as fractions, empty for missing") {
  CHECK(table_csv(small_table()) ==
        "layer,error_abs_max,error_share,delta\n"
        "/a_1|b,1.78e-05,0.975,-0.25\n"
        "x&y,146.3,,3\n"
        "z,,1.25,nan\n");
}

TEST_CASE("columns zero or empty in every row are dropped, with a note naming them") {
  Table t;
  t.columns = {{"layer", "", "", false}, {"err", "", "g"}, {"viol", "", "g"}, {"inf/nan"}, {"why"}, {"share"}};
  for (std::size_t i = 2; i < t.columns.size(); ++i) t.columns[i].optional = true;
  t.rows = {{Cell::of_text("a"), Cell::of_real(0), Cell::of_count(0), Cell::of_count(0), Cell::missing("no bound"), Cell::of_percent(0)},
            {Cell::of_text("b"), Cell::of_real(0), Cell::of_count(0), Cell::of_count(1), Cell::missing(), Cell::of_percent(0)}};
  // "err" is all zero but not optional; "inf/nan" has a 1; "why" has a reason in one row.
  CHECK(drop_empty_columns(t) == std::vector<std::string>{"g viol", "share"});
  REQUIRE(t.columns.size() == 4);
  CHECK(t.columns[2].title == "inf/nan");
  CHECK(t.rows[1].size() == 4);
  CHECK(t.notes == std::vector<std::string>{"Not shown, zero or empty in every row: g viol, share."});
  CHECK(drop_empty_columns(t).empty());  // nothing more to drop, no second note
  CHECK(t.notes.size() == 1);
}

TEST_CASE("a table for the terminal: group line, aligned titles, names clipped to their tail, colour from marks") {
  Table t;
  t.columns = {{"module", "", "", false}, {"‖rel‖", "", "local"}, {"share", "", "local"}, {"bounds", "", "", false}};
  t.rows = {{Cell::of_code("/blocks/blocks.0/attn/MatMul"), Cell::of_real(1.5e-3), Cell::of_percent(0.25, 0), Cell::of_text("ok")},
            {Cell::of_code("/b"), Cell::of_real(0.99996).marked(Mark::Bad), Cell::of_percent(0.75, 0), Cell::of_text("VIOLATED: 1")}};
  CHECK(table_terminal(t, false, 12) ==
        "               --- local ---\n"
        "  module         ‖rel‖ share bounds\n"
        "  ~attn/MatMul  0.0015   25% ok\n"
        "  /b           0.99996   75% VIOLATED: 1\n");
  CHECK(table_terminal(t, true, 12).find("\033[31m0.99996\033[0m") != std::string::npos);
}

TEST_CASE("a mixed chain with many selectors shows a short label in tables; CSV keeps the whole name") {
  // What `fpaudit advise` writes: one selector per kept node.
  std::string many = "fp16+fp32:/features/features.0/features.0.0/Conv";
  for (int i = 1; i <= 111; ++i) many += ",/features/features." + std::to_string(i) + "/Conv";
  CHECK(chain_label(many) == "fp16+fp32:~eatures.0/features.0.0/Conv +111 more");
  // Names up to 40 characters, plain or mixed, stay as they are; a longer one-selector chain
  // keeps its selector's tail.
  CHECK(chain_label("fp16-acc32") == "fp16-acc32");
  CHECK(chain_label("fp16+fp32:LayerNormalization,Softmax") == "fp16+fp32:LayerNormalization,Softmax");
  CHECK(chain_label("fp16+fp32:/encoder/layer.0/attention/self/Softmax") == "fp16+fp32:~er.0/attention/self/Softmax");
  // A long name without selectors keeps its tail.
  const std::string schedule(60, 'x');
  CHECK(chain_label("fp16@" + schedule) == "~" + schedule.substr(60 - 39));  // 39 characters of 65

  Table t;
  t.columns = {{"chain", "", "", false, "chain"}, {"flips", "", "", true, "flips"}};
  t.rows = {{Cell::of_chain(many), Cell::of_count(2)}, {Cell::of_chain("fp16"), Cell::of_count(0)}};
  const std::string markdown = table_markdown(t);
  CHECK(markdown.find("fp16+fp32:~eatures.0/features.0.0/Conv +111 more") != std::string::npos);
  CHECK(markdown.find("features.111") == std::string::npos);
  CHECK(table_csv(t) == "chain,flips\n\"" + many + "\",2\nfp16,0\n");
  CHECK(table_terminal(t, false, 30).find("+111 more") != std::string::npos);
  CHECK(table_latex(t).find("+111 more") != std::string::npos);
}
