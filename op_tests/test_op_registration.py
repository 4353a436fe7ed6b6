"""The op as torch sees it: schema, kernels, the clash with AMD's aiter, opcheck, torch.compile, GPU skips."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from conftest import HAS_GPU, NO_GPU_REASON
from pa_utils import make_case

OP = torch.ops.aiter.paged_attention_v1.default
HERE = os.path.dirname(os.path.abspath(__file__))

#: aiter's paged_attention_v1 schema with sliding_window appended (DESIGN.md §3).
AITER_SCHEMA = (
    "aiter::paged_attention_v1(Tensor(a!) out, Tensor(b!) workspace_buffer, Tensor query, Tensor key_cache, "
    "Tensor value_cache, float scale, Tensor block_tables, Tensor? cu_query_lens, Tensor context_lens, "
    "int max_context_len, Tensor? alibi_slopes, str kv_cache_dtype, str kv_cache_layout, float logits_soft_cap, "
    "Tensor k_scale, Tensor v_scale, Tensor? fp8_out_scale=None, int partition_size=256, int mtp=1, "
    "int sliding_window=0) -> ()"
)


def test_schema_is_aiters():
    assert str(OP._schema) == AITER_SCHEMA


@pytest.mark.parametrize("key", ["CPU", "CUDA", "Meta"])
def test_kernel_registered(key):
    assert torch._C._dispatch_has_kernel_for_dispatch_key("aiter::paged_attention_v1", key)


def test_import_refuses_an_existing_aiter_op():
    """If AMD's aiter (or anyone) defined aiter::paged_attention_v1 first, importing aiter_swa says so."""
    code = (
        "import torch\n"
        "lib = torch.library.Library('aiter', 'FRAGMENT')\n"
        "lib.define('paged_attention_v1(Tensor(a!) out) -> ()')\n"
        "import aiter_swa\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "ImportError: aiter_swa: the operator aiter::paged_attention_v1 is already registered"
    ), proc.stderr
    assert "import only one" in last


OPCHECK_CASES = {
    "no_window": dict(context_lens=[300, 700], head_size=64),
    "window_alibi_softcap": dict(
        context_lens=[5, 600], sliding_window=257, alibi=True, logits_soft_cap=5.0, head_size=128
    ),
    "nhd_kv_views_empty_ctx": dict(
        context_lens=[0, 33, 520], kv_cache_layout="NHD", combined_kv=True, sliding_window=40, head_size=80
    ),
    "one_partition": dict(context_lens=[100, 256], head_size=64, block_size=32),
}


@pytest.mark.parametrize("kw", OPCHECK_CASES.values(), ids=OPCHECK_CASES.keys())
def test_opcheck(kw):
    case = make_case(
        num_heads=8,
        num_kv_heads=2,
        block_size=kw.pop("block_size", 16),
        dtype=torch.bfloat16,
        num_seqs=len(kw["context_lens"]),
        **kw,
    )
    out = torch.zeros_like(case.query)
    torch.library.opcheck(OP, case.op_args(out, case.workspace()))


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")  # inside inductor
def test_torch_compile_fullgraph_matches_eager():
    case = make_case(
        num_seqs=3,
        num_heads=8,
        num_kv_heads=2,
        head_size=64,
        block_size=16,
        context_lens=[1, 300, 600],
        sliding_window=257,
        dtype=torch.bfloat16,
        alibi=True,
        logits_soft_cap=5.0,
    )

    def decode_step(*args):
        torch.ops.aiter.paged_attention_v1(*args)
        return args[0] + 1  # the op's output feeds the graph

    outs = []
    for fn in (decode_step, torch.compile(decode_step, fullgraph=True)):
        out = torch.full_like(case.query, float("nan"))
        outs.append((out, fn(*case.op_args(out, case.workspace()))))
    (eager_out, eager_res), (compiled_out, compiled_res) = outs
    assert torch.equal(compiled_out, eager_out)
    assert torch.equal(compiled_res, eager_res)


@pytest.mark.skipif(HAS_GPU, reason="checks the skip on machines without a GPU")
def test_gpu_tests_are_skipped_with_a_reason():
    """Without a GPU, ``gpu`` tests are reported as skipped with the reason, never as passed."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", os.path.join(HERE, "test_validation.py"), "-m", "gpu", "-rs", "-q", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )  # fmt: skip
    summary = proc.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "passed" not in summary and "failed" not in summary, proc.stdout
    assert NO_GPU_REASON in proc.stdout
