// Vectors built to break exact summation: each family aims at one way a fast path can be wrong.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fpaudit::testing {

struct DotCase {
  std::vector<double> x, w;  ///< values of the family's format, stored as double
  double bias = 0;
};

/// Families of binary64 dot products. Each draws its length and values from rng.
enum class Family {
  RandomBits64,      ///< any finite binary64 bit pattern: the whole range, subnormals
  RandomBits32,      ///< any finite binary32 bit pattern, widened
  Typical,           ///< N(0,1)-like activations and weights, binary32 values
  UnderflowingProducts,  ///< exponents near -530 each: products straddle 2^-1074 and 2^-969
  ExactZero,         ///< pairs a·b and (-a)·b shuffled: the sum is exactly zero
  SingleSurvivor,    ///< cancelling pairs of huge terms plus one small term: exactly that term
  Tie,               ///< cancelling pairs plus y and half an ulp of y: an exact midpoint
  NearTie,           ///< a midpoint nudged by ±2^-k of the half ulp (k 30..70), or by a
                     ///< product far below 2^-1074
  IllConditioned,    ///< Ogita–Rump–Oishi GenDot, condition numbers 1e5 .. 1e300
  SubnormalResult,   ///< subnormal terms and cancellation: results below 2^-1022
  Overflowing,       ///< terms near the largest finite value: results overflow or cancel back
  Sparse,            ///< mostly exact zeros (ReLU outputs) of both signs
};
inline constexpr Family kAllFamilies[] = {
    Family::RandomBits64, Family::RandomBits32, Family::Typical, Family::UnderflowingProducts,
    Family::ExactZero, Family::SingleSurvivor, Family::Tie, Family::NearTie, Family::IllConditioned,
    Family::SubnormalResult, Family::Overflowing, Family::Sparse};
std::string family_name(Family f);

/// A case of family f with about n terms (structured families add the few they need).
/// With f32 set every value is a binary32 value; families that need binary64's range
/// (has_f32_variant false) ignore it.
DotCase make_case(Family f, std::size_t n, bool f32, std::mt19937_64& rng);
bool has_f32_variant(Family f);

/// Ogita–Rump–Oishi GenDot (SISC 26(6), 2005, Algorithm 6.1): x, w with condition number
/// 2|x|ᵀ|w| / |xᵀw| of about 2^log2_cond; binary32 values when f32 is set.
DotCase gen_dot(std::size_t n, double log2_cond, bool f32, std::mt19937_64& rng);

/// A length drawn so that small, odd and vector-tail sizes and long vectors all appear.
std::size_t draw_length(std::mt19937_64& rng, std::size_t max_n);

}  // namespace fpaudit::testing
