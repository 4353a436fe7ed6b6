"""Helpers shared by the tests and benchmarks of op_tests (no tests here).

``testlib.pa_v1``: inputs, runner and metrics of the paged-attention op; ``testlib.jit``: toolchain
probes and the JIT's environment variables. ``op_tests`` is on ``sys.path`` under pytest (its
conftest.py) and for the scripts, which add it themselves.
"""

from __future__ import annotations

import torch

HAS_GPU = torch.cuda.is_available()  # ROCm builds of torch answer through torch.cuda too
NO_GPU_REASON = "no GPU visible to torch (torch.cuda.is_available() is False)"
