"""Shared pytest setup of op_tests: the device fixture, GPU skips, the opt-in full grid."""

from __future__ import annotations

import os

import pytest

from testlib import HAS_GPU, NO_GPU_REASON

FULL_GRID_ENV = "AITER_SWA_FULL_GRID"


def full_grid_selected(config) -> bool:
    """The full grid runs with ``-m full_grid`` (or any -m naming it) or ``AITER_SWA_FULL_GRID=1``."""
    return "full_grid" in (config.option.markexpr or "") or os.environ.get(FULL_GRID_ENV) == "1"


def pytest_report_header(config):
    grid = "on" if full_grid_selected(config) else f"off (-m full_grid or {FULL_GRID_ENV}=1)"
    return [f"aiter_swa: device {'cuda' if HAS_GPU else 'cpu'}; full grid {grid}"]


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu`` tests with a reason when torch sees no GPU; deselect the full grid unless asked."""
    skip_gpu = pytest.mark.skip(reason=NO_GPU_REASON)
    keep, dropped = [], []
    for item in items:
        if item.get_closest_marker("gpu") and not HAS_GPU:
            item.add_marker(skip_gpu)
        if item.get_closest_marker("full_grid") and not full_grid_selected(config):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def device() -> str:
    """Where correctness tests run: ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    return "cuda" if HAS_GPU else "cpu"
