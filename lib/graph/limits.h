// The size limits every reader enforces before it allocates, so that a hostile or truncated file
// is refused with a message instead of exhausting memory. One place, so the loader, the shape
// inference, the NPY reader and their tests agree on them.
#pragma once

#include <cstdint>

namespace fpaudit {

/// Largest element count any shape may have (2^40); element_count() saturates just above it.
inline constexpr std::int64_t kMaxElementCount = std::int64_t{1} << 40;
/// Largest element count of one runtime value (one sample's activation): 2^31, so that kernels
/// may index it with 32-bit integers.
inline constexpr std::int64_t kMaxValueElements = std::int64_t{1} << 31;
/// Largest element count of all constants of a model together (2^30 values, 8 GiB as binary64).
inline constexpr std::int64_t kMaxConstantElements = std::int64_t{1} << 30;
/// Largest element count of one constant that folding creates (ConstantOfShape, Expand, Tile,
/// Range can make it from a few bytes): 2^22. Larger float results stay nodes; shape arithmetic
/// never comes near it.
inline constexpr std::int64_t kMaxFoldedElements = std::int64_t{1} << 22;
/// Largest element count of all folded constants of a model together: 2^24 (128 MiB as binary64).
inline constexpr std::int64_t kMaxFoldedTotalElements = std::int64_t{1} << 24;
/// Largest rank of any tensor (NumPy allows 64; real networks use at most 6 or so).
inline constexpr std::int64_t kMaxRank = 32;
/// Largest model file protobuf can parse (2 GiB - 1); bigger weights go to external data.
inline constexpr std::int64_t kMaxModelBytes = (std::int64_t{1} << 31) - 1;
/// Largest .npy header we accept (NumPy writes a few hundred bytes).
inline constexpr std::int64_t kMaxNpyHeaderBytes = std::int64_t{1} << 16;
/// An .npz archive (a zip without zip64 offsets) is read whole; 32-bit offsets cap it at 4 GiB.
inline constexpr std::int64_t kMaxNpzBytes = (std::int64_t{1} << 32) - 1;

}  // namespace fpaudit
