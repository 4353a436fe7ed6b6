"""The multi-token grid of ``paged_attention_v1``, shared by the CPU tests (``pa_v1/test_pa_v1_mtp.py``)
and the GPU tests (``pa_v1/test_pa_v1_mtp_gpu.py``): cases around the edges relative to the query
tokens (no helpers of their own beyond ``testlib.pa_v1``)."""

from __future__ import annotations

import itertools

import pytest
import torch

from aiter_swa.ops.pa_v1.spec import SUPPORTED_HEAD_SIZES
from testlib.pa_v1 import make_case

MTPS = (1, 2, 3, 4, 8)
#: (num_heads, num_kv_heads): GQA 1, 2, 4, 8, 16.
HEADS = ((4, 4), (4, 2), (8, 2), (8, 1), (16, 1))
#: Window relative to the query tokens: none, 1 (each token alone), mtp (the tokens' span), a
#: partition edge (256), and one token past it.
WINDOWS = ("none", "1", "mtp", "256", "257")
#: "fixed": mtp rows per sequence, no cu_query_lens; "varlen": cu_query_lens with counts 0, 1, mtp,
#: mtp + 1 (skipped) and in between, plus two rows no sequence owns.
LAYOUTS = ("fixed", "varlen")
FEATURES = ("plain", "cap", "alibi", "sinks", "alibi_cap_sinks")


def window_of(name: str, mtp: int) -> int:
    return {"none": 0, "1": 1, "mtp": mtp, "256": 256, "257": 257}[name]


def context_lens_for(mtp: int, window: int) -> list:
    """Contexts around the edges relative to the tokens: 0, 1, fewer keys than tokens (p < 0 rows),
    the window and the window plus the tokens' span, a partition edge, several partitions."""
    w = window or 256
    lens = {0, 1, max(mtp - 1, 0), mtp, w - 1, w, w + mtp - 1, w + mtp, 255, 257, 700}
    return sorted(x for x in lens if x >= 0)


def query_lens_for(num_seqs: int, mtp: int) -> list:
    pattern = [0, 1, mtp, mtp + 1, max(mtp // 2, 1), mtp - 1]
    return [pattern[k % len(pattern)] for k in range(num_seqs)]


def mtp_case(seed, *, mtp, heads, head_size, window, layout, features, block_size=16, dtype=torch.float32,
             kv_cache_layout="HND", device="cpu"):  # fmt: skip
    w = window_of(window, mtp)
    lens = context_lens_for(mtp, w)
    kw = {}
    if layout == "varlen":
        kw = dict(query_lens=query_lens_for(len(lens), mtp), extra_rows=2)
    return make_case(
        num_seqs=len(lens), num_heads=heads[0], num_kv_heads=heads[1], head_size=head_size, block_size=block_size,
        context_lens=lens, dtype=dtype, device=device, sliding_window=w, kv_cache_layout=kv_cache_layout,
        logits_soft_cap=20.0 if "cap" in features else 0.0, alibi="alibi" in features,
        sinks="random" if "sinks" in features else None, seed=seed, mtp=mtp, scale=0.5 if "cap" in features else None,
        **kw,
    )  # fmt: skip


def _grid():
    """Every mtp x window x layout; GQA, head size, features, dtype and KV layout cycled through them, so
    every value of every parameter shows up (50 cases)."""
    cases = []
    for k, (mtp, window, layout) in enumerate(itertools.product(MTPS, WINDOWS, LAYOUTS)):
        heads = HEADS[k % len(HEADS)]
        head_size = SUPPORTED_HEAD_SIZES[(3 * k) % len(SUPPORTED_HEAD_SIZES)]
        features = FEATURES[(k // 2) % len(FEATURES)]
        dtype = ("fp32", "bf16", "fp16")[k % 3]
        kv_layout = ("HND", "NHD")[(k // 5) % 2]
        block_size = (16, 1, 32, 7)[(k // 3) % 4]
        cases.append(pytest.param(mtp, heads, head_size, window, layout, features, dtype, kv_layout, block_size,
                                  id=f"mtp{mtp}-w{window}-{layout}-g{heads[0] // heads[1]}-d{head_size}-{features}-"
                                     f"{dtype}-{kv_layout}-b{block_size}"))  # fmt: skip
    return cases


GRID = _grid()
GRID_ARGS = "mtp,heads,head_size,window,layout,features,dtype,kv_layout,block_size"
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


