// emu::warp_mma: the wavefront-collective matrix multiply-accumulate of csrc/include/aiter_swa/mma.h on
// the CPU. Each lane publishes its A and B fragments, the wavefront meets at a barrier, and each lane
// computes its own C/D elements from the whole A and B, which it reassembles with this file's own
// transcription of the vendors' tables (not mma.h's formulas): a kernel whose loaders disagree with the
// documented layout gets wrong numbers here.
//   NVIDIA mma.m16n8k16 (PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type"), lane
//   l, g = l / 4, t = l % 4:  A a0..a7 = (g,2t) (g,2t+1) (g+8,2t) (g+8,2t+1) (g,2t+8) (g,2t+9)
//   (g+8,2t+8) (g+8,2t+9);  B b0..b3 = (2t,g) (2t+1,g) (2t+8,g) (2t+9,g);  C c0..c3 = (g,2t)
//   (g,2t+1) (g+8,2t) (g+8,2t+1).
//   AMD v_mfma_f32_16x16x16{f16,bf16_1k} (AMD Matrix Instruction Calculator, cdna2/cdna3), lane l,
//   element e: A (l%16, 4(l/16)+e);  B (4(l/16)+e, l%16);  D (4(l/16)+e, l%16).
#pragma once

#include <cstring>

#include "aiter_swa/mma.h"

namespace emu {

struct Coord {
  int r, c;
};

inline Coord a_coord(int l, int e) {
  if constexpr (kWave == 32) {
    const int g = l / 4, t = l % 4;
    const Coord tab[8] = {{g, 2 * t}, {g, 2 * t + 1}, {g + 8, 2 * t}, {g + 8, 2 * t + 1},
                          {g, 2 * t + 8}, {g, 2 * t + 9}, {g + 8, 2 * t + 8}, {g + 8, 2 * t + 9}};
    return tab[e];
  } else {
    return {l % 16, 4 * (l / 16) + e};
  }
}
inline Coord b_coord(int l, int e) {
  if constexpr (kWave == 32) {
    const int g = l / 4, t = l % 4;
    const Coord tab[4] = {{2 * t, g}, {2 * t + 1, g}, {2 * t + 8, g}, {2 * t + 9, g}};
    return tab[e];
  } else {
    return {4 * (l / 16) + e, l % 16};
  }
}
inline Coord c_coord(int l, int e) {
  if constexpr (kWave == 32) {
    const int g = l / 4, t = l % 4;
    const Coord tab[4] = {{g, 2 * t}, {g, 2 * t + 1}, {g + 8, 2 * t}, {g + 8, 2 * t + 1}};
    return tab[e];
  } else {
    return {4 * (l / 16) + e, l % 16};
  }
}

template <bool IS_BF16>
inline float half_bits_to_float(uint16_t h) {
  if constexpr (IS_BF16) {
    return __uint_as_float(uint32_t(h) << 16);
  } else {
    _Float16 x;
    std::memcpy(&x, &h, 2);
    return float(x);
  }
}

template <bool IS_BF16>
void warp_mma(aiter_swa::mma::FragC& c, const aiter_swa::mma::FragA& a, const aiter_swa::mma::FragB& b) {
  namespace m = aiter_swa::mma;
  constexpr int kN = kWave == 32 ? 8 : 16, kA = kWave == 32 ? 8 : 4, kB = 4, kC = 4;
  static_assert(kN == m::kN && kA == m::kAElems && kB == m::kBElems && kC == m::kCElems, "fragment sizes");
  auto& w = my_wave();
  const int lane = int(threadIdx.x) % kWave;
  std::memcpy(&w.frag[lane][0], a.r, sizeof(a.r));
  std::memcpy(&w.frag[lane][8], b.r, sizeof(b.r));
  w.bar->arrive_and_wait();
  float A[16][16] = {}, B[16][16] = {};
  for (int l = 0; l < kWave; ++l) {
    for (int e = 0; e < kA; ++e) {
      const uint16_t h = uint16_t(w.frag[l][e / 2] >> (16 * (e % 2)));
      const Coord at = a_coord(l, e);
      A[at.r][at.c] = half_bits_to_float<IS_BF16>(h);
    }
    for (int e = 0; e < kB; ++e) {
      const uint16_t h = uint16_t(w.frag[l][8 + e / 2] >> (16 * (e % 2)));
      const Coord at = b_coord(l, e);
      B[at.r][at.c] = half_bits_to_float<IS_BF16>(h);
    }
  }
  w.bar->arrive_and_wait();  // every lane has read the fragments before they are reused
  for (int e = 0; e < kC; ++e) {
    const Coord at = c_coord(lane, e);
    double s = c.c[e];
    for (int k = 0; k < 16; ++k) s += double(A[at.r][k]) * double(B[k][at.c]);
    c.c[e] = float(s);
  }
}

}  // namespace emu
