// Options and helpers shared by several subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "graph/graph.h"
#include "core/arithmetic.h"

namespace fpaudit::cli {

/// The folder of the shipped models and data (the source tree's data/, or $FPAUDIT_DATA).
std::filesystem::path data_dir();

/// Loads MODEL, checks that DATA holds samples for its one input ([N, ...] with the input's
/// fixed dimensions), and infers every shape for a batch of one. Errors name the file at fault.
Graph load_model_for_samples(const std::string& model, const Constant& data, const std::string& data_path);

/// A CLI11 check for counts (--samples, --threads): a whole number above zero. Without the
/// option a command uses its default ("all"); given, 0 or -5 is a mistake, not "all".
CLI::Validator positive_count();

/// Creates the output folder, or throws "<dir>: cannot create the output folder: <reason>".
void create_output_folder(const std::string& dir);

/// A value for a one-line message: NaN and infinities spelled out, as in "sample 3 holds NaN".
std::string describe_value(double v);

/// Default chains of an audit.
inline const char* kDefaultChains = "fp32,fp16,fp16-acc32,bf16,bf16-acc32";

/// Adds --chains to sub, bound to `chains` (a comma-separated list).
void add_chains_option(CLI::App* sub, std::string& chains, const std::string& help);
/// Parses "fp16,bf16-acc32,fp16@pairwise-8"; throws std::invalid_argument.
std::vector<ChainSpec> parse_chain_list(const std::string& text);

}  // namespace fpaudit::cli
