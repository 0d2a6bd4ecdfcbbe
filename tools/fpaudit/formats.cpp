// fpaudit formats: the table of every number format fpaudit knows, with its derived limits.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "format/format.h"
#include "fpaudit/commands.h"

namespace fpaudit::cli {

namespace {

struct FormatsOptions {
  bool csv = false;
};

std::string_view overflow_word(const Format& f) {
  switch (f.overflow) {
    case OverflowPolicy::Infinity: return "inf";
    case OverflowPolicy::Saturate: return "saturate";
    case OverflowPolicy::NaN: return "nan";
  }
  return "?";
}

void run_formats(const FormatsOptions& opt) {
  if (opt.csv) {
    fmt::print("format,precision,emin,emax,u,max_finite,min_normal,min_subnormal,decimal_digits,overflow\n");
    for (const Format& f : named_formats())
      fmt::print("{},{},{},{},{:.17g},{:.17g},{:.17g},{:.17g},{:.4f},{}\n", f.name, f.precision, f.emin, f.emax,
                 unit_roundoff(f), max_finite(f), min_normal(f), min_positive(f), decimal_digits(f),
                 overflow_word(f));
    return;
  }
  fmt::print("{:<11} {:>3} {:>5} {:>4}  {:<20} {:<11} {:<20} {:<20} {:>6}  {}\n", "format", "p", "emin", "emax",
             "u = 2^-p", "max finite", "min normal", "min subnormal", "digits", "overflow");
  for (const Format& f : named_formats()) {
    fmt::print("{:<11} {:>3} {:>5} {:>4}  2^-{:<2} = {:<12.6g} {:<11.6g} 2^{:<4} = {:<11.6g} 2^{:<4} = {:<11.6g} {:>6.2f}  {}\n",
               f.name, f.precision, f.emin, f.emax, f.precision, unit_roundoff(f), max_finite(f), f.emin,
               min_normal(f), f.emin - f.precision + 1, min_positive(f), decimal_digits(f), overflow_word(f));
  }
}

}  // namespace

void set_formats_command(CLI::App& app, int& status) {
  auto opt = std::make_shared<FormatsOptions>();
  CLI::App* sub = app.add_subcommand("formats", "Print every number format with its unit roundoff and limits");
  sub->add_flag("--csv", opt->csv, "Print CSV instead of an aligned table");
  sub->callback([opt, &status] {
    run_formats(*opt);
    status = 0;
  });
}

}  // namespace fpaudit::cli
