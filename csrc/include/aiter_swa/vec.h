// Element types, bit-exact conversions of our own (HIP 5.x has no hip_bf16.h) and the vector
// load-and-convert functions through which the kernels read every query, key and value row.
// Values are carried as raw bit patterns; arithmetic is done in fp32.
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

__device__ __forceinline__ float to_float(float f) { return f; }
__device__ __forceinline__ void from_float(float f, float* out) { *out = f; }

// Eight elements of T read as one vector: the unit of every row load (16 bytes for 16-bit types).
// A new element type (fp8 KV) adds its Vec8 and its convert8 here; the kernels do not change.
constexpr int kVecElems = 8;
template <typename T>
struct Vec8;
template <>
struct Vec8<fp16_t> {
  using raw = uint4;
};
template <>
struct Vec8<bf16_t> {
  using raw = uint4;
};
template <typename T>
using vec8_t = typename Vec8<T>::raw;

// Issue the load of elements p[0..8) (p aligned to sizeof(vec8_t<T>)); convert later with convert8.
template <typename T>
__device__ __forceinline__ vec8_t<T> load_vec8(const T* p) {
  return *reinterpret_cast<const vec8_t<T>*>(p);
}

// Widen eight loaded elements to fp32.
template <typename T>
__device__ __forceinline__ void convert8(const vec8_t<T>& v, float (&f)[8]) {
  static_assert(sizeof(T) == 2, "convert8: 16-bit element types only");
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
