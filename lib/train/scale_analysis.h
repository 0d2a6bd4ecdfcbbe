// Which loss scales S = 2^e keep every scaled exact gradient S·ḡ normal and finite in a storage
// format (or at least not rounded to 0), where dynamic loss scaling settles, and the scale to
// recommend. theory/training-step.md, Proposition 3.
#pragma once

#include <vector>

#include "format/format.h"
#include "train/train_step.h"

namespace fpaudit::train {

/// From the exact gradients of every tensor (unscaled). The observed counts stay 0 here.
LossScaleAnalysis analyse_loss_scales(const std::vector<const std::vector<double>*>& exact, const Format& storage);

}  // namespace fpaudit::train
