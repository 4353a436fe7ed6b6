// fp16 / bf16 storage types and bit-exact conversions of our own (HIP 5.x has no hip_bf16.h).
// Values are carried as raw 16-bit patterns; arithmetic is done in fp32.
#pragma once

#include <type_traits>

#include "aiter_swa/compat.h"

namespace aiter_swa {

struct fp16_t {
  uint16_t bits;
};
struct bf16_t {
  uint16_t bits;
};

// IEEE binary16 -> binary32 (exact) and binary32 -> binary16 (round to nearest even).
__device__ __forceinline__ float to_float(fp16_t h) {
#if defined(AITER_SWA_HIP)
  return static_cast<float>(__builtin_bit_cast(_Float16, h.bits));
#else
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
  return f;
#endif
}

__device__ __forceinline__ void from_float(float f, fp16_t* out) {
#if defined(AITER_SWA_HIP)
  out->bits = __builtin_bit_cast(uint16_t, static_cast<_Float16>(f));
#else
  uint16_t h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  out->bits = h;
#endif
}

// bfloat16 is the upper half of binary32: widening is a shift; narrowing rounds to nearest even
// and keeps NaN a quiet NaN.
__device__ __forceinline__ float to_float(bf16_t b) { return __uint_as_float(uint32_t(b.bits) << 16); }

__device__ __forceinline__ void from_float(float f, bf16_t* out) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    out->bits = uint16_t((u >> 16) | 0x0040u);
    return;
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  out->bits = uint16_t(u >> 16);
}

// Eight 16-bit elements packed in one 16-byte vector (the unit of every global load).
template <typename T>
__device__ __forceinline__ void unpack8(const uint4& v, float (&f)[8]) {
  const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (std::is_same<T, bf16_t>::value) {
      f[2 * i] = __uint_as_float(w[i] << 16);
      f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    } else {
      f[2 * i] = to_float(T{uint16_t(w[i] & 0xffffu)});
      f[2 * i + 1] = to_float(T{uint16_t(w[i] >> 16)});
    }
  }
}

}  // namespace aiter_swa
