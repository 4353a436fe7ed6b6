// Element types, bit-exact conversions of our own (HIP 5.x has no hip_bf16.h) and the vector
// load-and-convert functions through which the kernels read every query, key and value row.
// Values are carried as raw bit patterns; arithmetic is done in fp32. fp8 KV-cache elements are
// decoded in software on every target (see below).
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
// and keeps NaN a quiet NaN: one cvt.rn.bf16.f32 on NVIDIA sm_80+ (PTX ISA, "cvt"; NaN gives the
// canonical NaN), elsewhere the integer rounding below (8 instructions on sm_90 before: the matrix-core
// kernel's softmax rounds 8 weights per lane and key tile).
__device__ __forceinline__ float to_float(bf16_t b) { return __uint_as_float(uint32_t(b.bits) << 16); }

__device__ __forceinline__ void from_float(float f, bf16_t* out) {
#if defined(AITER_SWA_CUDA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(out->bits) : "f"(f));
#else
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    out->bits = uint16_t((u >> 16) | 0x0040u);
    return;
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  out->bits = uint16_t(u >> 16);
#endif
}

__device__ __forceinline__ float to_float(float f) { return f; }
__device__ __forceinline__ void from_float(float f, float* out) { *out = f; }

// Two fp32 values rounded to nearest even into one word of two 16-bit T (fp16_t or bf16_t; lo in the
// low half): one cvt.rn.{bf16,f16}x2.f32 on NVIDIA sm_80+ (PTX ISA, "cvt"), else from_float twice
// (NaN: a NaN either way).
template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  static_assert(std::is_same<T, bf16_t>::value || std::is_same<T, fp16_t>::value, "pack2: a 16-bit type");
#if defined(AITER_SWA_CUDA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint32_t w;
  if constexpr (std::is_same<T, bf16_t>::value) asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(w) : "f"(hi), "f"(lo));
  else asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(w) : "f"(hi), "f"(lo));
  return w;
#else
  T a, b;
  from_float(lo, &a);
  from_float(hi, &b);
  return uint32_t(a.bits) | (uint32_t(b.bits) << 16);
#endif
}

// The two 16-bit T of a word as fp32 (lo: the low half), exactly.
template <typename T>
__device__ __forceinline__ void unpack2(uint32_t w, float& lo, float& hi) {
  T a, b;
  a.bits = uint16_t(w & 0xffffu);
  b.bits = uint16_t(w >> 16);
  lo = to_float(a);
  hi = to_float(b);
}

// FP8 E4M3 KV-cache elements (1 sign, 4 exponent, 3 mantissa bits; no infinities), in the two
// encodings serving engines store (both decode, never encode, here):
//  * fp8e4m3fn_t   = torch.float8_e4m3fn, the OCP OFP8 "E4M3" format (OCP 8-bit Floating Point
//    Specification rev. 1.0, 2023): exponent bias 7, NaN = S.1111.111, largest 448, smallest
//    subnormal 2^-9. vLLM's fp8 KV cache on NVIDIA and gfx950.
//  * fp8e4m3fnuz_t = torch.float8_e4m3fnuz (LLVM APFloat's Float8E4M3FNUZ; AMD MI300's fp8):
//    exponent bias 8, no negative zero, the one NaN is 0x80, largest 240, smallest subnormal 2^-10.
//    vLLM's fp8 KV cache on gfx940/941/942.
// The same bits differ by a factor 2 between the two (except the NaN codes): the format is part of
// the specialization, never guessed in the kernel.
struct fp8e4m3fn_t {
  uint8_t bits;
};
struct fp8e4m3fnuz_t {
  uint8_t bits;
};

template <typename T>
struct IsFp8 : std::false_type {};
template <>
struct IsFp8<fp8e4m3fn_t> : std::true_type {};
template <>
struct IsFp8<fp8e4m3fnuz_t> : std::true_type {};

// convert8<T> widens exactly up to a power of two: it returns value * kConvertScale<T>. 1 for the
// 16-bit types; for fp8 the bits are re-read as an fp16 number (sign to bit 15, exponent and
// mantissa to bits 7..13), which is value * 2^-8 (fn) or value * 2^-7 (fnuz, whose bias is one
// larger), subnormals included, with no rounding. Callers fold 1 / kConvertScale into a per-tensor
// scale (exact: a power of two).
template <typename T>
constexpr float kConvertScale = 1.f;
template <>
constexpr float kConvertScale<fp8e4m3fn_t> = 1.f / 256.f;
template <>
constexpr float kConvertScale<fp8e4m3fnuz_t> = 1.f / 128.f;

// Bytes 0 and 1 of b as two fp16 bit patterns (half 0, half 1) of value * kConvertScale.
__device__ __forceinline__ uint32_t e4m3x2_to_f16x2(uint32_t b) {
  const uint32_t y = (b & 0xffu) | ((b & 0xff00u) << 8);  // byte i in half i
  return ((y & 0x007f007fu) << 7) | ((y & 0x00800080u) << 8);
}

// Whether one of the 4 bytes of w is a NaN code: any byte x111'1111 (fn) / 0x80 (fnuz). Exact
// (the zero-byte test (t - 0x01010101) & ~t & 0x80808080 is nonzero iff some byte of t is 0).
template <typename T>
__device__ __forceinline__ bool fp8_has_nan(uint32_t w) {
  const uint32_t t = std::is_same<T, fp8e4m3fn_t>::value ? ((w & 0x7f7f7f7fu) ^ 0x7f7f7f7fu) : (w ^ 0x80808080u);
  return ((t - 0x01010101u) & ~t & 0x80808080u) != 0;
}

template <typename T>
__device__ __forceinline__ bool fp8_is_nan(uint32_t byte) {
  return std::is_same<T, fp8e4m3fn_t>::value ? (byte & 0x7fu) == 0x7fu : byte == 0x80u;
}

// Eight elements of T read as one vector: the unit of every row load (16 bytes for 16-bit types, 8
// for fp8). A new element type adds its Vec8 and its convert8 branch here.
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
template <>
struct Vec8<fp8e4m3fn_t> {
  using raw = uint2;
};
template <>
struct Vec8<fp8e4m3fnuz_t> {
  using raw = uint2;
};
template <typename T>
using vec8_t = typename Vec8<T>::raw;

// Issue the load of elements p[0..8) (p aligned to sizeof(vec8_t<T>)); convert later with convert8.
template <typename T>
__device__ __forceinline__ vec8_t<T> load_vec8(const T* p) {
  return *reinterpret_cast<const vec8_t<T>*>(p);
}

// Eight fp8 elements as four words of two fp16 numbers each (element e in word e / 2, half e % 2): value *
// kConvertScale<T>, exactly; a NaN code a quiet NaN, 0x7e00. convert8 widens them to fp32; a kernel that stores
// fp8 K/V as fp16 (the matrix-core kernel's register path) stores them as they are.
template <typename T>
__device__ __forceinline__ void convert8_f16(const vec8_t<T>& v, uint32_t (&h)[4]) {
  static_assert(IsFp8<T>::value, "convert8_f16: an fp8 element type");
  const uint32_t w[2] = {v.x, v.y};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    h[2 * i] = e4m3x2_to_f16x2(w[i]);
    h[2 * i + 1] = e4m3x2_to_f16x2(w[i] >> 16);
  }
  if (fp8_has_nan<T>(w[0]) || fp8_has_nan<T>(w[1])) {  // rare: the fp16 re-reading of a NaN code is a number
#pragma unroll
    for (int e = 0; e < 8; ++e)
      if (fp8_is_nan<T>((w[e / 4] >> (8 * (e % 4))) & 0xffu))
        h[e / 2] = (h[e / 2] & ~(0xffffu << (16 * (e % 2)))) | (0x7e00u << (16 * (e % 2)));
  }
}

// Widen eight loaded elements to fp32: f[i] = value(element i) * kConvertScale<T>, exactly.
template <typename T>
__device__ __forceinline__ void convert8(const vec8_t<T>& v, float (&f)[8]) {
  if constexpr (IsFp8<T>::value) {
    uint32_t h[4];  // the fp16 values (a NaN code: 0x7e00, which widens to a quiet NaN)
    convert8_f16<T>(v, h);
#pragma unroll
    for (int i = 0; i < 4; ++i) unpack2<fp16_t>(h[i], f[2 * i], f[2 * i + 1]);
  } else {
    static_assert(sizeof(T) == 2, "convert8: 16-bit or fp8 element types");
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) unpack2<T>(w[i], f[2 * i], f[2 * i + 1]);
  }
}

}  // namespace aiter_swa
