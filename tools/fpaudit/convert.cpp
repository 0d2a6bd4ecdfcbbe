// fpaudit convert MODEL --keep FILE|LIST --out OUT.onnx [--format fp16|bf16]: the model in 16 bits
// except the kept nodes (lib/convert), and the kept set in the forms other converters take.
#include <memory>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "convert/half_convert.h"
#include "fpaudit/commands.h"

namespace fpaudit::cli {

namespace {

struct ConvertCommandOptions {
  std::string model;
  std::string keep;
  std::string out;
  std::string format = "fp16";
  bool print_blocklists = false;
};

/// OUT.onnx -> OUT.blocklists.txt (any other name gets the suffix appended).
std::filesystem::path blocklists_path(const std::filesystem::path& out) {
  std::filesystem::path p = out;
  if (p.extension() == ".onnx") p.replace_extension();
  return p.string() + ".blocklists.txt";
}

int run_convert(const ConvertCommandOptions& opt) {
  ConvertOptions options;
  options.keep = parse_keep_list(opt.keep);
  options.target = opt.format == "bf16" ? DType::BFloat16 : DType::Float16;
  const ConvertResult r = convert_to_half(opt.model, options);
  const std::string lists = block_lists_text(r.kept);
  // Both files are complete in memory before either is written, each written atomically.
  write_file_atomic(opt.out, r.model_bytes);
  if (!opt.print_blocklists) write_file_atomic(blocklists_path(opt.out), lists);

  fmt::print("{}", convert_summary(r, opt.out, options.target));
  if (opt.print_blocklists) fmt::print("\n{}", lists);
  else fmt::print("wrote {}\n", blocklists_path(opt.out).string());
  return 0;
}

}  // namespace

void set_convert_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<ConvertCommandOptions>();
  CLI::App* sub = app.add_subcommand("convert", "Write the model in binary16 (or bfloat16) except the kept nodes, with Casts at the boundaries");
  sub->add_option("model", opt->model, "ONNX model")->required();
  sub->add_option("--keep", opt->keep,
                  "Nodes kept in float32: a file with one node name per line ('#' comments; `fpaudit advise` writes one), or a "
                  "comma-separated list (default: none)");
  sub->add_option("--out", opt->out, "The converted model, OUT.onnx (the block lists go to OUT.blocklists.txt)")->required();
  sub->add_option("--format", opt->format, "16-bit format: fp16 (binary16) or bf16 (bfloat16, opset 13 or later)")
      ->check(CLI::IsMember({"fp16", "bf16"}))
      ->capture_default_str();
  sub->add_flag("--print-blocklists", opt->print_blocklists,
                "Print the kept set as onnxconverter-common node_block_list, Polygraphy --layer-precisions and ModelOpt "
                "--nodes_to_exclude instead of writing OUT.blocklists.txt");
  sub->callback([opt, &status] { status = run_convert(*opt); });
}

}  // namespace fpaudit::cli
