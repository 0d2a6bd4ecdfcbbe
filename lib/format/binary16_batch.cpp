#include "format/binary16_batch.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FPAUDIT_X86 1
#endif

#include "common/cpu_features.h"

namespace fpaudit::b16 {

namespace impl {

#if FPAUDIT_X86
bool cpu_has_f16c() {
  return cpu::f16c();
}

__attribute__((target("avx,f16c"))) void to_float_f16c(const std::uint16_t* in, float* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

__attribute__((target("avx,f16c"))) void from_float_f16c(const float* in, std::uint16_t* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = _cvtss_sh(in[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
#else
bool cpu_has_f16c() { return false; }
void to_float_f16c(const std::uint16_t* in, float* out, std::size_t n) { to_float_soft(in, out, n); }
void from_float_f16c(const float* in, std::uint16_t* out, std::size_t n) { from_float_soft(in, out, n); }
#endif

void to_float_soft(const std::uint16_t* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    _Float16 h;
    std::memcpy(&h, &in[i], sizeof h);
    out[i] = static_cast<float>(h);
  }
}

void from_float_soft(const float* in, std::uint16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto h = static_cast<_Float16>(in[i]);
    std::memcpy(&out[i], &h, sizeof h);
  }
}

}  // namespace impl

namespace {
struct Backend {
  std::string_view name;
  void (*to_float)(const std::uint16_t*, float*, std::size_t);
  void (*from_float)(const float*, std::uint16_t*, std::size_t);
};
const Backend& backend() {
  static const Backend b = impl::cpu_has_f16c()
                               ? Backend{"f16c", impl::to_float_f16c, impl::from_float_f16c}
                               : Backend{"float16-soft", impl::to_float_soft, impl::from_float_soft};
  return b;
}
}  // namespace

std::string_view batch_backend() { return backend().name; }
void to_float(const std::uint16_t* in, float* out, std::size_t n) { backend().to_float(in, out, n); }
void from_float(const float* in, std::uint16_t* out, std::size_t n) { backend().from_float(in, out, n); }

}  // namespace fpaudit::b16
