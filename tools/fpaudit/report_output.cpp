#include "fpaudit/common_options.h"
#include "fpaudit/report_output.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "common/atomic_file.h"
#include "report/render.h"

namespace fpaudit::cli {

std::vector<std::string> report_file_names(const std::string& format) {
  if (format == "json") return {"audit.json"};
  if (format == "csv") return {"layers.csv", "samples.csv"};
  if (format == "md" || format == "tex" || format == "html") return {"audit." + format};
  return {};
}

std::vector<std::string> report_set_names(const std::vector<std::string>& formats, bool compare) {
  std::vector<std::string> names;
  for (const std::string& f : formats)
    for (const std::string& n : report_file_names(f))
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  if (compare && std::find(formats.begin(), formats.end(), "csv") != formats.end()) names.push_back("compare.csv");
  return names;
}

std::string render_report(const AuditDocument& doc, const std::string& format, const std::string& gnuplot, bool colour,
                          bool per_layer) {
  if (format == "table") return render_terminal(doc, colour, per_layer);
  if (format == "csv") return render_layers_csv(doc);
  if (format == "md") return render_markdown(doc);
  if (format == "tex") return render_latex(doc);
  if (format == "html") return render_html(doc, HtmlOptions{gnuplot});
  throw std::invalid_argument("unknown report format '" + format + "'");
}

void write_report_files(const AuditDocument& doc, const nlohmann::json* json, const std::vector<std::string>& formats,
                        const std::filesystem::path& out, const std::string& gnuplot) {
  bool any = false;
  for (const std::string& f : formats) any = any || !report_file_names(f).empty();
  if (!any) return;
  create_output_folder(out.string());
  for (const std::string& f : formats) {
    if (f == "json") {
      if (!json) throw std::invalid_argument("the json format needs the audit's own JSON");
      write_file_atomic(out / "audit.json", json->dump(1) + "\n");
    } else if (f == "csv") {
      write_file_atomic(out / "layers.csv", render_layers_csv(doc));
      write_file_atomic(out / "samples.csv", render_samples_csv(doc));
      if (!doc.compare.empty()) write_file_atomic(out / "compare.csv", render_compare_csv(doc));
    } else if (f != "table") {
      write_file_atomic(out / report_file_names(f).at(0), render_report(doc, f, gnuplot, false));
    }
  }
}

void add_gnuplot_option(CLI::App* sub, std::string& gnuplot) {
  const char* env = std::getenv("FPAUDIT_GNUPLOT");
  gnuplot = env && *env ? env : "gnuplot";
  sub->add_option("--gnuplot", gnuplot, "gnuplot for the HTML plots (default: $FPAUDIT_GNUPLOT, else gnuplot on PATH)");
}

}  // namespace fpaudit::cli
