// A wider search than the TensorCore(b, g) probe, for GPUs whose tensor cores no
// tensor-core-B+G model reproduces (sm_90: bench/gpu/h200-2026-12-04.md). Each variant changes
// one feature of tensor_core_block.h's model that published measurements say differs between
// generations: the block size, the extra alignment bits, whether the running sum takes part in
// the alignment (or is added after the block, in binary32), and whether the block's result is
// normalised toward zero or to nearest. The variants are host code written for this search
// only; a variant that reproduces every output becomes a model (tensor_core_block.h) with its
// bound (theory/tensor-core.md) in a later change.
#pragma once

#include <string>
#include <vector>

#include "cuda/check/check_table.h"
#include "cuda/check/gemm_cases.h"

namespace fpaudit::cuda::check {

/// Ranks the variants by how many of the device's outputs `y` (one vector per case, M×N
/// accumulator values, bias included) they miss, and says the best ones in `table`.
/// binary16_accumulator: each block's result is rounded to nearest binary16 (mma .f16).
void probe_tensor_core_variants(const std::string& kernel, bool binary16_accumulator, const std::vector<GemmCase>& cases,
                                const std::vector<std::vector<float>>& y, CheckTable& table);

}  // namespace fpaudit::cuda::check
