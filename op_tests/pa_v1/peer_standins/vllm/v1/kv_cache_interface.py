"""Stand-in for ``vllm.v1.kv_cache_interface`` (aiter_swa benchmark): ``KVQuantMode`` with vLLM 0.33's values.

The benchmark runs a bf16 / fp16 cache: ``NONE`` (0). The other members keep vLLM's numbering because
the kernel compares the constexpr ``KV_QUANT_MODE`` against these integers.
"""
from enum import IntEnum


class KVQuantMode(IntEnum):
    NONE = 0
    FP8_PER_TENSOR = 1
    INT8_PER_TOKEN_HEAD = 2
    FP8_PER_TOKEN_HEAD = 3
    INT4_PER_TOKEN_HEAD = 4
    NVFP4 = 5
