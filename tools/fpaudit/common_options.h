// Options and helpers shared by several subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/arithmetic.h"

namespace fpaudit::cli {

/// The folder of the shipped models and data (the source tree's data/, or $FPAUDIT_DATA).
std::filesystem::path data_dir();

/// Default chains of an audit.
inline const char* kDefaultChains = "fp32,fp16,fp16-acc32,bf16,bf16-acc32";

/// Adds --chains to sub, bound to `chains` (a comma-separated list).
void add_chains_option(CLI::App* sub, std::string& chains, const std::string& help);
/// Parses "fp16,bf16-acc32,fp16@pairwise-8"; throws std::invalid_argument.
std::vector<ChainSpec> parse_chain_list(const std::string& text);

}  // namespace fpaudit::cli
