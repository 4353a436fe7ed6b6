"""Shared pytest setup of op_tests: the device fixture, GPU skips, the opt-in full grid, and the
pre-built kernels of an op's compile tests."""

from __future__ import annotations

import os

import pytest

from testlib import HAS_GPU, NO_GPU_REASON
from testlib.jit import prebuild_for_tests, use_prebuilt

FULL_GRID_ENV = "AITER_SWA_FULL_GRID"


def full_grid_selected(config) -> bool:
    """The full grid runs with ``-m full_grid`` (or any -m naming it) or ``AITER_SWA_FULL_GRID=1``."""
    return "full_grid" in (config.option.markexpr or "") or os.environ.get(FULL_GRID_ENV) == "1"


def pytest_configure(config):
    """Under pytest-xdist, each worker's torch gets its share of the CPU threads: N workers each with
    torch's default of one OpenMP thread per core oversubscribe the machine N-fold, and the float64
    references (``F.conv1d``, matmul) then spin for seconds per call (the causal_conv1d GPU tests took
    ~30 s each on the 16-core H200 machine with 8 workers, all of it in the reference's conv1d)."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


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


@pytest.fixture(scope="module")
def prebuilt_dir(request, tmp_path_factory):
    """The requesting module's ``SPECS``, every buildable one pre-built through one ninja:
    ``(dir, {spec: resources}, failures)`` (``testlib.jit.prebuild_for_tests``)."""
    name = request.module.__name__.rpartition(".")[2]
    return prebuild_for_tests(request.module.SPECS, tmp_path_factory.mktemp(f"{name}_prebuilt"))


@pytest.fixture
def prebuilt_env(monkeypatch, tmp_path, prebuilt_dir):
    """The JIT loading from ``prebuilt_dir`` only (``testlib.jit.use_prebuilt``); yields ``prebuilt_dir``."""
    from aiter_swa.jit import loader

    use_prebuilt(monkeypatch, tmp_path, prebuilt_dir[0])
    yield prebuilt_dir
    loader._reset_for_tests()
