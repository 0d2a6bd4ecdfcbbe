// Bit patterns of the encoded formats: sign | exponent field | fraction (IEEE 754 layout; E4M3
// uses the all-ones exponent for finite values). Lets tests enumerate every value of a format.
#pragma once

#include <cstdint>

#include "format/format.h"

namespace fpaudit {

/// The value of a bit pattern (NaN for NaN patterns). Requires f.storage_bits > 0.
double decode(const Format& f, std::uint32_t bits);
/// The bit pattern of a value of f (which must already be representable); NaN encodes as the
/// canonical quiet NaN (IEEE: exponent all ones, top fraction bit set; E4M3: S.1111.111).
std::uint32_t encode(const Format& f, double value);
/// Number of distinct bit patterns, 2^storage_bits.
inline std::uint64_t pattern_count(const Format& f) { return std::uint64_t{1} << f.storage_bits; }

}  // namespace fpaudit
