// CPU features at run time, capped by FPAUDIT_ISA (cpu_features.h).
#include "common/cpu_features.h"

#include <cstdlib>
#include <optional>
#include <string_view>

namespace fpaudit::cpu {

namespace {

std::optional<Level> parse(std::string_view name) {
  if (name == "baseline") return Level::baseline;
  if (name == "avx2") return Level::avx2;
  if (name == "avx512") return Level::avx512;
  return std::nullopt;
}

const char* variable() { return std::getenv("FPAUDIT_ISA"); }

#if defined(__x86_64__) || defined(__i386__)
// __builtin_cpu_supports needs its model initialised; a static initialiser of another object
// file may ask before libgcc's constructor has run.
bool supports_avx512f() { return __builtin_cpu_init(), __builtin_cpu_supports("avx512f") != 0; }
bool supports_avx2() { return __builtin_cpu_init(), __builtin_cpu_supports("avx2") != 0; }
bool supports_fma() { return __builtin_cpu_init(), __builtin_cpu_supports("fma") != 0; }
bool supports_f16c() {
  return __builtin_cpu_init(), __builtin_cpu_supports("f16c") != 0 && __builtin_cpu_supports("avx") != 0;
}
#else
bool supports_avx512f() { return false; }
bool supports_avx2() { return false; }
bool supports_fma() { return false; }
bool supports_f16c() { return false; }
#endif

bool allowed(Level needed) { return static_cast<int>(cap()) >= static_cast<int>(needed); }

}  // namespace

Level cap() {
  static const Level level = [] {
    const char* text = variable();
    if (text == nullptr || *text == '\0') return Level::avx512;
    return parse(text).value_or(Level::baseline);
  }();
  return level;
}

std::string environment_error() {
  const char* text = variable();
  if (text == nullptr || *text == '\0' || parse(text)) return {};
  return "FPAUDIT_ISA='" + std::string(text) + "' is not an instruction-set level (baseline, avx2 or avx512)";
}

bool avx512f() {
  static const bool yes = allowed(Level::avx512) && supports_avx512f();
  return yes;
}
bool avx2() {
  static const bool yes = allowed(Level::avx2) && supports_avx2();
  return yes;
}
bool fma() {
  static const bool yes = allowed(Level::avx2) && supports_fma();
  return yes;
}
bool f16c() {
  static const bool yes = allowed(Level::avx2) && supports_f16c();
  return yes;
}

const char* level_name() {
  if (avx512f()) return "avx512";
  if (avx2()) return "avx2";
  return "baseline";
}

}  // namespace fpaudit::cpu
