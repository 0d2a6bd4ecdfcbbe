// Writing an audit's reports, shared by `fpaudit audit` (a fresh run) and `fpaudit report` (a
// saved one): which formats exist, which file each writes, and the --format/--gnuplot options.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "report/audit_document.h"

namespace fpaudit::cli {

/// The files a format writes into the output folder ("table" writes none: it goes to stdout).
///   json → audit.json, csv → layers.csv + samples.csv (+ compare.csv with --compare runs), md → audit.md, tex → audit.tex, html → audit.html
std::vector<std::string> report_file_names(const std::string& format);

/// The files of all `formats`, in order, without repeats: the set one run writes.
std::vector<std::string> report_set_names(const std::vector<std::string>& formats, bool compare = false);

/// Writes each file format in `formats` into `out` (created when missing), each file
/// atomically. `json` is the document as the audit wrote it (needed only for the json format).
void write_report_files(const AuditDocument& doc, const nlohmann::json* json, const std::vector<std::string>& formats,
                        const std::filesystem::path& out, const std::string& gnuplot);

/// One format as text for stdout: the terminal table (coloured when `colour`), layers.csv for
/// csv, or the Markdown, LaTeX or HTML document. `per_layer`: the table's full per-layer tables.
std::string render_report(const AuditDocument& doc, const std::string& format, const std::string& gnuplot, bool colour,
                          bool per_layer = false);

/// Adds --gnuplot PATH (default: $FPAUDIT_GNUPLOT, else gnuplot on PATH).
void add_gnuplot_option(CLI::App* sub, std::string& gnuplot);

}  // namespace fpaudit::cli
