// --device host|cuda: where the fp16 chains' GEMMs (Gemm, MatMul, Conv) run in an audit.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/arithmetic.h"

namespace fpaudit::cli {

using ChainFactory = std::function<std::unique_ptr<Arithmetic>(const ChainSpec&)>;

/// The factory for `device` ("host": empty, the default; "cuda": the GPU's device chains).
/// For cuda, throws std::runtime_error (exit 2) when fpaudit was built without CUDA, when no
/// CUDA device is usable, or when a chain's tensor-core model is not this GPU's; otherwise
/// says on stderr which chains run their GEMMs on which kernel.
ChainFactory chain_factory_for(const std::string& device, const std::vector<ChainSpec>& chains);

}  // namespace fpaudit::cli
