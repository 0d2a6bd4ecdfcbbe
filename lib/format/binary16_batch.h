// Bulk binary16 <-> binary32 conversion, the hot loop of every fp16 chain. The implementation
// is picked once at run time from the CPU's features: F16C vector instructions where present,
// else the compiler's _Float16 conversions. Both are tested to give the same bits as
// b16::to_float / b16::from_float for every input class (tests/format/binary16_fast_test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fpaudit::b16 {

/// Which implementation the bulk conversions use: "f16c" or "float16-soft".
std::string_view batch_backend();

/// out[i] = to_float(in[i]), exactly.
void to_float(const std::uint16_t* in, float* out, std::size_t n);
/// out[i] = from_float(in[i]): round to nearest even, overflow to Inf.
void from_float(const float* in, std::uint16_t* out, std::size_t n);

/// The two implementations, callable directly so tests can compare them with each other.
namespace impl {
bool cpu_has_f16c();
void to_float_f16c(const std::uint16_t* in, float* out, std::size_t n);
void from_float_f16c(const float* in, std::uint16_t* out, std::size_t n);
void to_float_soft(const std::uint16_t* in, float* out, std::size_t n);
void from_float_soft(const float* in, std::uint16_t* out, std::size_t n);
}  // namespace impl

}  // namespace fpaudit::b16
