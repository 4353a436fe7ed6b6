// The per-call split of paged_attention_v1 (host code only, no GPU header): from a call's
// max_context_len and its plan (sizes, the workspace buffer's size, the device's SM/CU count), the
// number of split-K partitions, their size and the workspace offsets. The prepared launcher
// (csrc/templates/pa_v1.cpp.jinja, Prepared) runs it on every call, so max_context_len is a per-call
// value and one plan serves a decode loop whose max_context_len grows every step. The same rule, in
// Python: aiter_swa/ops/pa_v1/gpu.py (launch_values, mma_split) and workspace.py (num_partitions,
// layout); op_tests/pa_v1/test_pa_v1_split.py checks that both agree. Every product saturates at
// INT64_MAX (no overflow whatever the sizes; a saturated size is larger than any buffer).
#pragma once

#include <cstdint>

namespace aiter_swa {
namespace pa_v1 {

struct Split {
  int64_t max_context_len;  // clamped to [0, max_blocks_per_seq * block_size]
  int64_t num_partitions;   // <= 1: one partition writes out directly, no workspace
  int64_t partition_size;   // keys per partition
  int64_t exp_sums_offset, max_logits_offset, tmp_out_offset;  // bytes into the workspace
  int64_t workspace_bytes;  // bytes the split needs (0 with one partition)
  int64_t key_tile;         // keys per tile of the matrix-core kernel that runs (its form); 0: the vector kernel
};

// a * b for a, b >= 0, saturated at INT64_MAX.
inline int64_t sat_mul(int64_t a, int64_t b) { return (a > 0 && b > INT64_MAX / a) ? INT64_MAX : a * b; }
inline int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }
// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

// Keys the rows of a sequence attend at most: min(max_context_len, w + mtp - 1) with a window w > 0,
// else max_context_len (workspace.num_partitions). mtp >= 1; no overflow for any int64 w and mtp.
inline int64_t attended_span(int64_t max_context_len, int64_t sliding_window, int64_t mtp) {
  if (sliding_window <= 0 || sliding_window >= max_context_len - (mtp - 1)) return max_context_len;
  return sliding_window + (mtp - 1);
}

// The workspace offsets of `parts` partitions (workspace.layout): exp_sums, max_logits (float32) and
// tmp_out (the output dtype) for num_rows * num_heads * parts slots.
inline void set_layout(Split& s, int64_t num_rows, int64_t num_heads, int64_t head_size, int64_t out_bytes) {
  if (s.num_partitions <= 1) {
    s.exp_sums_offset = s.max_logits_offset = s.tmp_out_offset = s.workspace_bytes = 0;
    return;
  }
  const int64_t n = sat_mul(sat_mul(num_rows, num_heads), s.num_partitions);
  s.exp_sums_offset = 0;
  s.max_logits_offset = sat_mul(4, n);
  s.tmp_out_offset = sat_mul(8, n);
  s.workspace_bytes = sat_add(s.tmp_out_offset, sat_mul(sat_mul(n, head_size), out_bytes));
}

// The matrix-core kernel's partitions (gpu.mma_split) at key tiles of `key_tile` and waves of `target_per_cu`
// workgroups per CU: the fewest partitions (counted in key-tile multiples) whose workgroups fill their last wave
// to `min_wave_fill` (spec.MMA_MIN_WAVE_FILL) or fit one wave with at least min_wave_fill x `saturating_per_cu`
// (spec.MMA_SATURATING_WORKGROUPS_PER_CU, at most target_per_cu) per CU, each partition's K/V (`key_bytes` per
// key) at most `max_wave_partition_bytes` (spec.MMA_MAX_WAVE_PARTITION_BYTES), else the best fill; never more
// partitions than key tiles nor than the workspace buffer holds (`part_bytes` each), nor partitions of fewer
// than `min_partition_keys` keys in whole key tiles (spec.MMA_MIN_PARTITION_KEYS). Sets num_partitions,
// partition_size and key_tile of `s` for `keys` (>= 1) keys of `workgroups` (sequence, KV head, chunk) triples.
template <class Args>
inline void mma_partitions(Split& s, const Args& a, int64_t keys, int64_t workgroups, int64_t part_bytes,
                           int64_t key_tile, int64_t target_per_cu, double min_wave_fill, int64_t min_partition_keys,
                           int64_t saturating_per_cu, int64_t key_bytes, int64_t max_wave_partition_bytes) {
  const int64_t tiles = ceil_div(keys, key_tile);
  int64_t cap = part_bytes > 0 ? a.workspace_bytes / part_bytes : 0;
  const int64_t by_size = tiles / ceil_div(min_partition_keys > 1 ? min_partition_keys : 1, key_tile);
  if (by_size < cap) cap = by_size;  // partitions of at least min_partition_keys keys
  // want in [1, min(tiles, cap, 4 * slots)] as gpu.mma_split, the fill in double as Python's int / int (exact
  // below 2^53)
  int64_t slots = sat_mul(target_per_cu, a.num_cus > 0 ? a.num_cus : 0);
  if (slots < 1) slots = 1;
  const int64_t saturating_wave = sat_mul(saturating_per_cu < target_per_cu ? saturating_per_cu : target_per_cu,
                                          a.num_cus > 0 ? a.num_cus : 0);
  const double saturating = min_wave_fill * static_cast<double>(saturating_wave);
  int64_t last = tiles < cap ? tiles : cap;
  if (sat_mul(4, slots) < last) last = sat_mul(4, slots);
  if (last < 1) last = 1;
  int64_t best = 1;
  double best_fill = -1.0;
  for (int64_t want = 1; want <= last; ++want) {
    const int64_t size_tiles = ceil_div(tiles, want);
    const int64_t parts = ceil_div(tiles, size_tiles);
    const int64_t n = sat_mul(workgroups, parts);
    const double fill = static_cast<double>(n) / static_cast<double>(sat_mul(ceil_div(n, slots), slots));
    if (fill > best_fill + 1e-9) {
      best = parts;
      best_fill = fill;
    }
    const bool one_wave = saturating <= static_cast<double>(n) && n <= slots &&
                          sat_mul(sat_mul(size_tiles, key_tile), key_bytes) <= max_wave_partition_bytes;
    if (fill >= min_wave_fill || one_wave) {
      best = parts;
      break;
    }
  }
  s.partition_size = ceil_div(tiles, best) * key_tile;
  s.num_partitions = ceil_div(keys, s.partition_size);
  s.key_tile = key_tile;
}

// Args: the launcher's LaunchArgs (the launch contract of aiter_swa/ops/pa_v1/spec.py, per-plan and
// per-call values set). rows = 0: the vector kernel (partitions of `vector_partition_size` keys);
// else the matrix-core kernel with `rows` query rows per workgroup (mma_partitions at its key tiles of
// `key_tile` and waves of `target_per_cu`). A spec with the long form (spec.mma_long_form: `long_key_tile`
// > 0) runs it, at its tile and its wave of `long_target_per_cu`, when that split's partitions hold at least
// `long_min_partition_keys` keys (spec.MMA_LONG_MIN_PARTITION_KEYS); else its own form.
template <class Args>
inline Split split_for(const Args& a, int64_t head_size, int64_t out_bytes, int64_t rows, int64_t key_tile,
                       int64_t vector_partition_size, int64_t target_per_cu, double min_wave_fill,
                       int64_t min_partition_keys, int64_t saturating_per_cu, int64_t kv_bytes,
                       int64_t max_wave_partition_bytes, int64_t long_key_tile = 0, int64_t long_target_per_cu = 0,
                       int64_t long_min_partition_keys = 0) {
  Split s{};
  const int64_t cap_len = sat_mul(a.max_blocks_per_seq > 0 ? a.max_blocks_per_seq : 0, a.block_size > 0 ? a.block_size : 0);
  s.max_context_len = a.max_context_len < 0 ? 0 : (a.max_context_len > cap_len ? cap_len : a.max_context_len);
  const int64_t mtp = a.mtp > 0 ? a.mtp : 1;
  const int64_t span = attended_span(s.max_context_len, a.sliding_window, mtp);
  if (rows == 0) {
    s.partition_size = vector_partition_size;
    s.num_partitions = ceil_div(span, vector_partition_size);
  } else {
    const int64_t gqa = a.num_kv_heads > 0 ? a.num_heads / a.num_kv_heads : 0;
    const int64_t chunks = ceil_div(sat_mul(gqa, mtp), rows);  // (the launcher rejects mtp > 65535)
    const int64_t part_bytes = sat_mul(sat_mul(a.num_query_rows, a.num_heads), sat_add(8, sat_mul(head_size, out_bytes)));
    const int64_t keys = span > 1 ? span : 1;
    int64_t workgroups = sat_mul(sat_mul(a.num_seqs, a.num_kv_heads), chunks);
    if (workgroups < 1) workgroups = 1;
    const int64_t key_bytes = 2 * head_size * kv_bytes;
    if (long_key_tile > 0) {
      mma_partitions(s, a, keys, workgroups, part_bytes, long_key_tile, long_target_per_cu, min_wave_fill,
                     min_partition_keys, saturating_per_cu, key_bytes, max_wave_partition_bytes);
    }
    if (long_key_tile <= 0 || s.partition_size < long_min_partition_keys) {
      mma_partitions(s, a, keys, workgroups, part_bytes, key_tile, target_per_cu, min_wave_fill, min_partition_keys,
                     saturating_per_cu, key_bytes, max_wave_partition_bytes);
    }
  }
  set_layout(s, a.num_query_rows, a.num_heads, head_size, out_bytes);
  return s;
}

}  // namespace pa_v1
}  // namespace aiter_swa
