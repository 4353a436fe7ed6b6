"""Stand-in for ``vllm.platforms`` (aiter_swa benchmark): what triton_unified_attention.py asks.

``fp8_dtype()``: vLLM's CUDA platform answers ``torch.float8_e4m3fn``; its ROCm platform
``torch.float8_e4m3fnuz`` on gfx942 (MI300) and ``float8_e4m3fn`` elsewhere.
``is_device_capability_family(c)``: ``major * 10 + minor`` rounded down to a multiple of 10 equals
``c`` (vLLM: ``capability.to_int() // 10 == c // 10``), so 100 is Blackwell (sm_100 / sm_103).
"""
import torch


class _Platform:
    @staticmethod
    def is_cuda() -> bool:
        return torch.cuda.is_available() and torch.version.hip is None

    @staticmethod
    def is_rocm() -> bool:
        return torch.version.hip is not None

    @staticmethod
    def is_cpu() -> bool:
        return not torch.cuda.is_available()

    @staticmethod
    def _capability() -> int:
        if not torch.cuda.is_available():
            return -1
        major, minor = torch.cuda.get_device_capability()
        return major * 10 + minor

    def is_device_capability(self, capability) -> bool:
        if isinstance(capability, tuple):
            capability = capability[0] * 10 + capability[1]
        return self._capability() == capability

    def is_device_capability_family(self, capability: int) -> bool:
        cap = self._capability()
        return cap >= 0 and cap // 10 == capability // 10

    def fp8_dtype(self) -> torch.dtype:
        if self.is_rocm() and "gfx94" in torch.cuda.get_device_properties(0).gcnArchName:
            return torch.float8_e4m3fnuz
        return torch.float8_e4m3fn


current_platform = _Platform()
