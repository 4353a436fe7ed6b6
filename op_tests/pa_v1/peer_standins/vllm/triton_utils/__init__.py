"""Stand-in for ``vllm.triton_utils`` (aiter_swa benchmark): the installed Triton."""
import triton
import triton.language as tl

__all__ = ["tl", "triton"]
