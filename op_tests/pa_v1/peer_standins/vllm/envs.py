"""Stand-in for ``vllm.envs`` (aiter_swa benchmark): the one setting triton_unified_attention.py reads.

``VLLM_BATCH_INVARIANT``: vLLM reads ``bool(int(os.getenv("VLLM_BATCH_INVARIANT", "0")))``; when on,
unified_attention never takes its split-K (3D) path.
"""
import os

VLLM_BATCH_INVARIANT: bool = bool(int(os.getenv("VLLM_BATCH_INVARIANT", "0")))
