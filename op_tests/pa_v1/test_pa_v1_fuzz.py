"""A small seeded slice of the differential fuzz (``fuzz_pa_v1.py``): the first configurations of
seed 0 (the kernel combinations of a full ``--num-specs 24`` run, so the GPU suite's pre-built
kernels serve it). On a GPU: the kernel against the CPU path (every 10th also against the float64
reference); without one: the CPU path against the reference."""

from __future__ import annotations

import pytest
import torch

import fuzz_pa_v1 as fuzz  # beside this file (pytest puts the test file's directory on sys.path)

SLICE = fuzz.configs(24, seed=0, num_specs=24)


@pytest.mark.parametrize("index", range(len(SLICE)))
def test_fuzz_slice(device, index):
    devices = ("cuda", "cpu") if device == "cuda" else ("cpu",)
    assert fuzz.run_config(SLICE[index], devices, check_reference=index % 10 == 0) is None, SLICE[index]
