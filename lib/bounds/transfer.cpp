#include "bounds/transfer.h"

#include <cmath>

namespace fpaudit::bounds {

double safety(long n) { return 1.0 + 2.0 * gamma(n + 2, std::ldexp(1.0, -53)); }

}  // namespace fpaudit::bounds
