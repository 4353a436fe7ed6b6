"""Supported configurations, shared by validation, the CPU path, the GPU dispatch and the JIT.

One place so that the validation messages, the pre-build matrix and the README agree.
"""

#: Head sizes with a GPU specialization (each exact: no element is padded or dropped).
SUPPORTED_HEAD_SIZES = (64, 80, 96, 128, 192, 256)
#: Tokens per KV-cache block.
SUPPORTED_BLOCK_SIZES = (16, 32)
#: Tokens per split-K partition (aiter's ``_PARTITION_SIZE_ROCM``); the only one supported.
SUPPORTED_PARTITION_SIZES = (256,)
PARTITION_SIZE = 256
#: Query heads per KV head served by one workgroup: GQA ratios are rounded up to one of these.
GQA_BUCKETS = (1, 2, 4, 8, 16)
MAX_GQA_RATIO = GQA_BUCKETS[-1]
#: dtypes with a GPU kernel (the CPU path also takes float32).
GPU_DTYPES = ("fp16", "bf16")


def gqa_bucket(gqa_ratio: int) -> int:
    """Smallest bucket in :data:`GQA_BUCKETS` that holds ``gqa_ratio`` query heads per KV head."""
    for b in GQA_BUCKETS:
        if gqa_ratio <= b:
            return b
    raise ValueError(
        f"num_heads / num_kv_heads: expected a GQA ratio of at most {MAX_GQA_RATIO}, got {gqa_ratio}"
    )
