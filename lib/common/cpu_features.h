// Which of fpaudit's hand-written vector kernels this process may use: what the CPU reports at
// run time (never the compile flags), capped by the environment variable FPAUDIT_ISA so that a
// test on an AVX-512 machine runs the code an AVX2-only or a plain x86-64 machine would.
//
// Every kernel set computes the same bits as the scalar code (the project is built with
// -ffp-contract=off and no fast-math), so the cap changes the speed only; tests/cli's
// isa_fallback test holds the outputs and the audit JSON to that. Functions that GCC clones per
// target (target_clones) choose through the compiler's own resolver and ignore the cap; they are
// one source compiled several times, with the same IEEE operations in each clone.
#pragma once

#include <string>

namespace fpaudit::cpu {

/// Instruction-set levels, each including the one below: baseline is x86-64 (SSE2); avx2 adds
/// AVX, AVX2, FMA and F16C (x86-64-v3); avx512 adds AVX-512 F.
enum class Level { baseline = 0, avx2 = 1, avx512 = 2 };

/// FPAUDIT_ISA = baseline | avx2 | avx512, or unset (no cap). An unknown value caps at baseline
/// here; the command-line tool rejects it first (environment_error).
Level cap();

/// One line naming what is wrong with FPAUDIT_ISA, or empty when it is unset or valid.
std::string environment_error();

/// The CPU has the instructions and the cap allows their level.
bool avx512f();
bool avx2();
bool fma();
bool f16c();  ///< F16C and AVX (the conversions use VEX encodings)

/// The widest level in use: "avx512", "avx2" or "baseline" (for benchmark records and logs).
const char* level_name();

}  // namespace fpaudit::cpu
