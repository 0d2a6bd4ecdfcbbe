// The rounding models a vector form of a bound rule is held to its scalar form in: 16-bit
// storage and accumulation, bfloat16 with binary32 accumulation, binary32, a saturating E4M3, and
// the exact reference's binary64.
#pragma once

#include <vector>

#include "core/rounding_model.h"

namespace fpaudit::test {

inline std::vector<bounds::ArithmeticModel> storage_rounding_models() {
  using bounds::ArithmeticModel;
  return {
      ArithmeticModel::chain(binary16(), binary16(), DotSchedule::sequential()),
      ArithmeticModel::chain(bfloat16(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::chain(binary32(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::chain(e4m3(), binary32(), DotSchedule::sequential()),
      ArithmeticModel::exact_reference(),
  };
}

}  // namespace fpaudit::test
