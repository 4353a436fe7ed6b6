"""The op as torch sees it: schema, kernels, namespaces and co-existence with AMD's aiter, opcheck,
torch.compile, GPU skips."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from aiter_swa._library import NAMESPACE, schema_of
from aiter_swa.ops.pa_v1.call import PaV1Call
from testlib import HAS_GPU, NO_GPU_REASON
from testlib.pa_v1 import make_case

OP = torch.ops.aiter_swa.paged_attention_v1.default
HERE = os.path.dirname(os.path.abspath(__file__))

#: aiter's paged_attention_v1 arguments with sliding_window and sinks appended (docs/design.md).
AITER_ARGS = (
    "(Tensor(a!) out, Tensor(b!) workspace_buffer, Tensor query, Tensor key_cache, "
    "Tensor value_cache, float scale, Tensor block_tables, Tensor? cu_query_lens, Tensor context_lens, "
    "int max_context_len, Tensor? alibi_slopes, str kv_cache_dtype, str kv_cache_layout, float logits_soft_cap, "
    "Tensor k_scale, Tensor v_scale, Tensor? fp8_out_scale=None, int partition_size=256, int mtp=1, "
    "int sliding_window=0, Tensor? sinks=None) -> ()"
)


def test_schema_is_aiters_in_both_namespaces():
    assert schema_of(PaV1Call) == AITER_ARGS
    assert str(OP._schema) == "aiter_swa::paged_attention_v1" + AITER_ARGS
    # No AMD aiter in this environment: the aiter name is registered too, with the same schema.
    assert str(torch.ops.aiter.paged_attention_v1.default._schema) == "aiter::paged_attention_v1" + AITER_ARGS


@pytest.mark.parametrize("ns", [NAMESPACE, "aiter"])
@pytest.mark.parametrize("key", ["CPU", "CUDA", "Meta"])
def test_kernel_registered(ns, key):
    assert torch._C._dispatch_has_kernel_for_dispatch_key(f"{ns}::paged_attention_v1", key)


# ---------------------------------------------------------------- co-existence with AMD's aiter
#: A stand-in for AMD's aiter, registering aiter::paged_attention_v1 at import the way aiter does
#: (ROCm/aiter e4048607: csrc/cpp_itfs/torch_utils.py direct_register_custom_op, called from
#: aiter/ops/attention.py): a module-level Library("aiter", "FRAGMENT"), the schema inferred from the
#: Python function with out and workspace_buffer mutated (so it returns Tensor and has SymInts), a
#: CUDA kernel only, no fake impl.
STANDIN_INIT = textwrap.dedent("""
    from typing import Optional
    import torch
    from torch import Tensor
    aiter_lib = torch.library.Library("aiter", "FRAGMENT")

    def paged_attention_v1(out: Tensor, workspace_buffer: Tensor, query: Tensor, key_cache: Tensor,
                           value_cache: Tensor, scale: float, block_tables: Tensor, cu_query_lens: Optional[Tensor],
                           context_lens: Tensor, max_context_len: int, alibi_slopes: Optional[Tensor],
                           kv_cache_dtype: str, kv_cache_layout: str, logits_soft_cap: float, k_scale: Tensor,
                           v_scale: Tensor, fp8_out_scale: Optional[Tensor] = None, partition_size: int = 256,
                           mtp: int = 1, sliding_window: int = 0) -> Tensor:
        return out

    schema = torch.library.infer_schema(paged_attention_v1, mutates_args=["out", "workspace_buffer"])
    aiter_lib.define("paged_attention_v1" + schema)
    aiter_lib.impl("paged_attention_v1", paged_attention_v1, dispatch_key="CUDA")
""")


def _site(tmp_path, dist_name: str | None) -> str:
    """A site dir holding the stand-in ``aiter`` package, installed as distribution ``dist_name``."""
    site = tmp_path / "site"
    (site / "aiter").mkdir(parents=True)
    (site / "aiter" / "__init__.py").write_text(STANDIN_INIT)
    if dist_name:
        info = site / f"{dist_name.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1.0\n")
        (info / "top_level.txt").write_text("aiter\n")
    return str(site)


CHECK = textwrap.dedent("""
    import logging, sys, torch
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="LOG %(name)s %(message)s")
    for name in sys.argv[1:]:
        __import__(name)
    import aiter_swa
    from testlib.pa_v1 import make_case
    case = make_case(num_seqs=2, num_heads=4, num_kv_heads=2, head_size=64, block_size=16, context_lens=[5, 40],
                     dtype=torch.bfloat16)
    out = torch.zeros_like(case.query)
    torch.ops.aiter_swa.paged_attention_v1(*case.op_args(out, case.workspace()))
    assert torch.equal(out, aiter_swa.paged_attention(case.query, case.key_cache, case.value_cache,
                                                      case.block_tables, case.context_lens))
    print("aiter_swa op ran")
    for ns in ("aiter_swa", "aiter"):  # whose op holds each name: aiter's returns a Tensor
        schema = str(getattr(torch.ops, ns).paged_attention_v1.default._schema)
        print(ns, "standin" if schema.endswith("-> Tensor") else "aiter_swa")
""")


def _run(tmp_path, site, order):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([site, os.path.dirname(HERE)])}
    return subprocess.run([sys.executable, "-c", CHECK, *order], capture_output=True, text=True, timeout=300,
                          env=env, cwd=tmp_path)


@pytest.mark.parametrize("order", [["aiter"], ["aiter_swa", "aiter"]], ids=["aiter_first", "aiter_swa_first"])
def test_coexists_with_amd_aiter_in_either_order(tmp_path, order):
    """AMD aiter installed: it keeps torch.ops.aiter.paged_attention_v1, in either import order; aiter_swa's op
    is torch.ops.aiter_swa.paged_attention_v1 and it says so once through logging."""
    proc = _run(tmp_path, _site(tmp_path, "amd-aiter"), order)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "aiter_swa op ran" in lines and "aiter_swa aiter_swa" in lines and "aiter standin" in lines, proc.stdout
    logs = [line for line in lines if line.startswith("LOG aiter_swa ")]
    assert len(logs) == 1 and "amd-aiter 0.1.0" in logs[0] and "torch.ops.aiter_swa.paged_attention_v1" in logs[0], logs


def test_unrelated_aiter_distribution_does_not_count(tmp_path):
    """PyPI's unrelated package ``aiter`` is not AMD's: aiter_swa registers the aiter name (and nothing
    imports the unrelated package)."""
    proc = _run(tmp_path, _site(tmp_path, "aiter"), [])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "aiter_swa op ran" in lines and "aiter_swa aiter_swa" in lines and "aiter aiter_swa" in lines, proc.stdout


def test_aiter_name_taken_by_another_package(tmp_path):
    """Not AMD's aiter by its distribution, but torch.ops.aiter.paged_attention_v1 already defined: no error,
    the other op keeps the name, one log line."""
    proc = _run(tmp_path, _site(tmp_path, None), ["aiter"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "aiter standin" in lines and "aiter_swa aiter_swa" in lines, proc.stdout
    assert sum(line.startswith("LOG aiter_swa ") for line in lines) == 1


OPCHECK_CASES = {
    "no_window": dict(context_lens=[300, 700], head_size=64),
    "window_alibi_softcap": dict(
        context_lens=[5, 600], sliding_window=257, alibi=True, logits_soft_cap=5.0, head_size=128
    ),
    "nhd_kv_views_empty_ctx": dict(
        context_lens=[0, 33, 520], kv_cache_layout="NHD", combined_kv=True, sliding_window=40, head_size=80
    ),
    "one_partition": dict(context_lens=[100, 256], head_size=64, block_size=32),
    "sinks_block_272": dict(context_lens=[0, 300, 700], sliding_window=500, sinks="random", block_size=272, head_size=64),
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
        torch.ops.aiter_swa.paged_attention_v1(*args)
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
        [sys.executable, "-m", "pytest", os.path.join(HERE, "test_pa_v1_validation.py"), "-m", "gpu", "-rs", "-q", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )  # fmt: skip
    summary = proc.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "passed" not in summary and "failed" not in summary, proc.stdout
    assert NO_GPU_REASON in proc.stdout
