"""Helpers shared by the tests and benchmarks of op_tests (no tests here).

``testlib.pa_v1``: inputs, runner and metrics of the paged-attention op; ``testlib.jit``: toolchain
probes and the JIT's environment variables. ``op_tests`` is on ``sys.path`` under pytest (its
conftest.py) and for the scripts, which add it themselves.
"""

from __future__ import annotations

import contextlib

import torch

HAS_GPU = torch.cuda.is_available()  # ROCm builds of torch answer through torch.cuda too
NO_GPU_REASON = "no GPU visible to torch (torch.cuda.is_available() is False)"


@contextlib.contextmanager
def no_host_sync():
    """Run the block under ``torch.cuda.set_sync_debug_mode("error")``: any host-device
    synchronisation in it raises. Earlier GPU work is finished first, outside the checked region."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")
