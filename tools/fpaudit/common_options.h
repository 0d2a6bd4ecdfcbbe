// Options and helpers shared by several subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "graph/graph.h"
#include "graph/samples.h"
#include "core/arithmetic.h"

namespace fpaudit::cli {

/// The folder of the shipped models and data (the source tree's data/, or $FPAUDIT_DATA).
std::filesystem::path data_dir();

/// Loads MODEL, checks that DATA holds samples for its one input ([N, ...] with the input's
/// fixed dimensions), and infers every shape for a batch of one. Errors name the file at fault.
Graph load_model_for_samples(const std::string& model, const Constant& data, const std::string& data_path);
/// The same checks and inference on a model already loaded from the file `model`.
Graph infer_for_samples(Graph graph, const std::string& model, const Constant& data, const std::string& data_path);

/// Help of --sample-axis, stated once for every command that reads samples.
inline const char* kSampleAxisHelp =
    "Which axis of the input arrays indexes samples: auto (default): axis 0 when the array has one more dimension "
    "than the model's input, or as many and the input's first dimension is symbolic or 1; otherwise the whole array "
    "is one sample (a fixed first dimension other than 1). none: every array is one sample. N: axis N of every array";

/// Adds --input (repeatable: FILE.npy for a one-input model, NAME=FILE.npy per input, or one
/// FILE.npz keyed by input names) and --sample-axis to sub.
void add_input_options(CLI::App* sub, std::vector<std::string>& inputs, std::string& sample_axis, const std::string& help);

/// Reads the --input arguments. "NAME=FILE" names the input unless the whole argument is an
/// existing file; ModelError for unreadable files.
std::vector<InputArray> read_inputs(const std::vector<std::string>& specs);

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
/// Checks each mixed chain's node selectors against the model (core/mixed_arithmetic.h,
/// resolve_kept); throws "OPTION 'CHAIN': no node or operator type 'S' in MODEL".
void resolve_chains(std::vector<ChainSpec>& chains, const Graph& graph, const std::string& option);

}  // namespace fpaudit::cli
