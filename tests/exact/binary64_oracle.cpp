#include "binary64_oracle.h"

#include <vector>

namespace fpaudit::testing {

namespace {

/// MPFR's exponent range set to binary64's for the object's lifetime. MPFR writes numbers as
/// 0.1b × 2^e: the smallest subnormal 2^-1074 is 0.1b × 2^-1073, the largest finite value
/// is below 2^1024 = 0.1b × 2^1025.
class Binary64Range {
 public:
  Binary64Range() : emin_(mpfr_get_emin()), emax_(mpfr_get_emax()) {
    mpfr_set_emin(-1073);
    mpfr_set_emax(1024);
  }
  ~Binary64Range() {
    mpfr_set_emin(emin_);
    mpfr_set_emax(emax_);
  }

 private:
  mpfr_exp_t emin_, emax_;
};

/// Terms of a sum held exactly: a 106-bit MPFR number holds any product of two binary64 values.
class Terms {
 public:
  explicit Terms(std::size_t n) : values_(n) {
    for (auto& v : values_) mpfr_init2(v.x, 106);
  }
  ~Terms() {
    for (auto& v : values_) mpfr_clear(v.x);
  }
  Terms(const Terms&) = delete;
  Terms& operator=(const Terms&) = delete;
  mpfr_ptr operator[](std::size_t i) { return values_[i].x; }
  std::vector<mpfr_ptr> pointers() {
    std::vector<mpfr_ptr> p;
    for (auto& v : values_) p.push_back(v.x);
    return p;
  }

 private:
  struct Value {
    mpfr_t x;
  };
  std::vector<Value> values_;
};

int exact_sum_into(mpfr_ptr out, mpfr_rnd_t rnd, std::span<const double> x, std::span<const double> w, double bias,
                   bool with_products) {
  const std::size_t n = x.size();
  Terms terms(n + (with_products ? 1 : 0));
  for (std::size_t i = 0; i < n; ++i) {
    mpfr_set_d(terms[i], x[i], MPFR_RNDN);  // exact: 53 ≤ 106 bits
    if (with_products) {
      mpfr_t wi;
      mpfr_init2(wi, 53);
      mpfr_set_d(wi, w[i], MPFR_RNDN);
      mpfr_mul(terms[i], terms[i], wi, MPFR_RNDN);  // exact at 106 bits
      mpfr_clear(wi);
    }
  }
  if (with_products) mpfr_set_d(terms[n], bias, MPFR_RNDN);
  if (terms.pointers().empty()) {
    mpfr_set_zero(out, 1);
    return 0;
  }
  auto p = terms.pointers();
  return mpfr_sum(out, p.data(), p.size(), rnd);
}

}  // namespace

double binary64_nearest(mpfr_ptr x, int inex) {
  Binary64Range range;
  inex = mpfr_check_range(x, inex, MPFR_RNDN);
  mpfr_subnormalize(x, inex, MPFR_RNDN);
  return mpfr_get_d(x, MPFR_RNDN);  // exact now
}

double binary64_nearest(mpfr_srcptr x) {
  mpfr_t r;
  mpfr_init2(r, 53);
  const int inex = mpfr_set(r, x, MPFR_RNDN);
  const double d = binary64_nearest(r, inex);
  mpfr_clear(r);
  return d;
}

double oracle_dot(std::span<const double> x, std::span<const double> w, double bias) {
  mpfr_t r;
  mpfr_init2(r, 53);
  const int inex = exact_sum_into(r, MPFR_RNDN, x, w, bias, true);
  const double d = binary64_nearest(r, inex);
  mpfr_clear(r);
  return d;
}

double oracle_sum(std::span<const double> x) {
  mpfr_t r;
  mpfr_init2(r, 53);
  const int inex = exact_sum_into(r, MPFR_RNDN, x, x, 0.0, false);
  const double d = binary64_nearest(r, inex);
  mpfr_clear(r);
  return d;
}

int oracle_dot_round(mpfr_ptr out, mpfr_rnd_t rnd, std::span<const double> x, std::span<const double> w, double bias) {
  return exact_sum_into(out, rnd, x, w, bias, true);
}

}  // namespace fpaudit::testing
