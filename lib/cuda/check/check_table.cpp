#include "cuda/check/check_table.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "format/binary16.h"

namespace fpaudit::cuda::check {

void CheckTable::add(CheckRow row) {
  if (!header_printed_) {
    std::fputs(fmt::format("{:<16} {:<34} {:>9} {:>8} {:>9} {:>6} {:>9}\n", "kernel", "case", "outputs", "differ", "bounded",
                           "over", "err/bound")
                   .c_str(),
               out_);
    header_printed_ = true;
  }
  std::string ratio = row.bounded > 0 ? fmt::format("{:.3f}", row.worst_ratio) : "-";
  std::fputs(fmt::format("{:<16} {:<34} {:>9} {:>8} {:>9} {:>6} {:>9}{}{}\n", row.kernel, row.case_name, row.compared,
                         row.mismatches, row.bounded > 0 ? std::to_string(row.bounded) : "-",
                         row.bounded > 0 ? std::to_string(row.violations) : "-", ratio, row.failed() ? "  FAIL" : "",
                         row.note.empty() ? "" : "  " + row.note)
                 .c_str(),
             out_);
  std::fflush(out_);
  rows_.push_back(std::move(row));
}

void CheckTable::say(const std::string& line) {
  std::fputs((line + "\n").c_str(), out_);
  std::fflush(out_);
}

long CheckTable::failures() const {
  long n = 0;
  for (const CheckRow& r : rows_) n += r.failed();
  return n;
}

void CheckTable::print_summary() const {
  long compared = 0, bounded = 0;
  for (const CheckRow& r : rows_) compared += r.compared, bounded += r.bounded;
  const long failed = failures();
  std::fputs(fmt::format("\n{} rows, {} outputs compared bit for bit with the host, {} checked against their bound: {}\n",
                         rows_.size(), compared, bounded, failed == 0 ? "all pass" : fmt::format("{} rows FAIL", failed))
                 .c_str(),
             out_);
}

bool same_value(float a, float b) {
  std::uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y || (std::isnan(a) && std::isnan(b));
}

std::string describe_half(unsigned short h) { return fmt::format("{} (0x{:04x})", b16::to_float(h), h); }

std::string describe_float(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return fmt::format("{:.9g} (0x{:08x})", f, u);
}

}  // namespace fpaudit::cuda::check
