// Data for the verification campaign: vectors of a storage format in the shapes that stress a
// bound — mean-zero noise, all-positive sums, cancellation, sums near the overflow threshold,
// products in the subnormal range, stagnation (a large term absorbing small ones).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "format/format.h"

namespace fpaudit::test {

enum class DataKind { Normal, Positive, Cancellation, NearOverflow, Subnormal, Stagnation };
inline constexpr DataKind kDataKinds[] = {DataKind::Normal,       DataKind::Positive,  DataKind::Cancellation,
                                          DataKind::NearOverflow, DataKind::Subnormal, DataKind::Stagnation};
std::string data_kind_name(DataKind k);

/// x and w of length n, every value a value of `storage`, shaped by `kind` for an accumulation
/// format `acc` (whose range decides what "near overflow" and "subnormal" mean).
void campaign_vectors(DataKind kind, const Format& storage, const Format& acc, long n, std::mt19937_64& rng,
                      std::vector<double>& x, std::vector<double>& w);

/// Median of a sample (0 when empty); sorts a copy.
double median(std::vector<double> v);

}  // namespace fpaudit::test
