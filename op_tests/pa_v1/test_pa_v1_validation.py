"""Argument validation of ``paged_attention_v1``: one test per bad input.

Each checks the exception type, that the message names the argument and shows what was expected
and what was given, and that ``out`` was not written. Validation reads metadata only: it runs on
meta tensors, and on a GPU it does not synchronise.
"""

from __future__ import annotations

import pytest
import torch

from aiter_swa.ops.pa_v1.call import validate
from aiter_swa.ops.pa_v1.workspace import get_workspace_size
from testlib import no_host_sync
from testlib.pa_v1 import make_case

ARG_NAMES = [a.name for a in torch.ops.aiter_swa.paged_attention_v1.default._schema.arguments]
NUM_SEQS, NUM_HEADS, NUM_KV_HEADS, HEAD_SIZE, BLOCK_SIZE, LENS = 2, 8, 2, 64, 16, [10, 600]
REQUIRED_BYTES = get_workspace_size(NUM_SEQS, NUM_HEADS, HEAD_SIZE, max(LENS), torch.bfloat16)


def valid_args(device) -> dict:
    """A valid call (bf16, HND, 3 partitions so the workspace is not empty) as {argument name: value}."""
    case = make_case(
        num_seqs=NUM_SEQS, num_heads=NUM_HEADS, num_kv_heads=NUM_KV_HEADS, head_size=HEAD_SIZE,
        block_size=BLOCK_SIZE, context_lens=LENS, dtype=torch.bfloat16, device=device, alibi=True, poison=False,
    )  # fmt: skip
    out = torch.randn(case.query.shape, device=device).to(torch.bfloat16)
    return dict(zip(ARG_NAMES, case.op_args(out, case.workspace())))


def resized(t: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    shape = list(t.shape)
    shape[dim] = size
    return torch.zeros(shape, dtype=t.dtype, device=t.device)


def strided_head_dim(t: torch.Tensor) -> torch.Tensor:
    """Same shape and values, stride 2 along the last dimension."""
    wide = torch.zeros(*t.shape[:-1], 2 * t.shape[-1], dtype=t.dtype, device=t.device)
    wide[..., ::2] = t
    return wide[..., ::2]


def other_device(t: torch.Tensor) -> torch.Tensor:
    return t.to("meta" if t.device.type == "cpu" else "cpu")


def cu(a: dict, values=(0, 1, 2)) -> torch.Tensor:
    """A ``cu_query_lens`` on the query's device (default: one token per sequence)."""
    return torch.tensor(values, dtype=torch.int32, device=a["query"].device)


def fp8(a: dict, **update) -> dict:
    """``kv_cache_dtype="fp8"`` with float8_e4m3fn caches (valid), then ``update``."""
    return {"kv_cache_dtype": "fp8", "key_cache": a["key_cache"].to(torch.float8_e4m3fn),
            "value_cache": a["value_cache"].to(torch.float8_e4m3fn), **update}


# (id, update of the valid arguments, exception, argument named, expected text, given text)
CASES = [
    ("query_dtype", lambda a: {"query": a["query"].to(torch.int16)}, TypeError, "query", "torch.float16", "torch.int16"),
    ("out_dtype", lambda a: {"out": a["out"].float()}, TypeError, "out", "torch.bfloat16", "torch.float32"),
    ("key_cache_dtype", lambda a: {"key_cache": a["key_cache"].half()}, TypeError, "key_cache", "torch.bfloat16", "torch.float16"),
    ("value_cache_dtype", lambda a: {"value_cache": a["value_cache"].float()}, TypeError, "value_cache", "torch.bfloat16", "torch.float32"),
    ("caches_int8", lambda a: {"key_cache": a["key_cache"].to(torch.int8)}, TypeError, "key_cache", "kv_cache_dtype='auto'", "torch.int8"),
    ("block_tables_dtype", lambda a: {"block_tables": a["block_tables"].long()}, TypeError, "block_tables", "torch.int32", "torch.int64"),
    ("context_lens_dtype", lambda a: {"context_lens": a["context_lens"].long()}, TypeError, "context_lens", "torch.int32", "torch.int64"),
    ("alibi_slopes_dtype", lambda a: {"alibi_slopes": a["alibi_slopes"].half()}, TypeError, "alibi_slopes", "torch.float32", "torch.float16"),
    ("workspace_dtype", lambda a: {"workspace_buffer": a["workspace_buffer"].float()}, TypeError, "workspace_buffer", "torch.uint8", "torch.float32"),
    ("out_shape", lambda a: {"out": a["out"][:, :4]}, ValueError, "out", "(2, 8, 64)", "(2, 4, 64)"),
    ("query_ndim", lambda a: {"query": a["query"][0], "out": a["out"][0]}, ValueError, "query", "3-D", "(8, 64)"),
    ("cache_ndim", lambda a: {"key_cache": a["key_cache"][0]}, ValueError, "key_cache", "4-D", "(2, 16, 64)"),
    (
        "head_size_mismatch",
        lambda a: {"key_cache": resized(a["key_cache"], 3, 80), "value_cache": resized(a["value_cache"], 3, 80)},
        ValueError, "key_cache", "head_size 64", "80",
    ),
    ("heads_not_multiple", lambda a: {"query": resized(a["query"], 1, 7), "out": resized(a["out"], 1, 7), "alibi_slopes": None}, ValueError, "query", "multiple of num_kv_heads=2", "7"),
    ("gqa_ratio_too_big", lambda a: {"query": resized(a["query"], 1, 34), "out": resized(a["out"], 1, 34), "alibi_slopes": None}, ValueError, "query", "<= 16", "34 / 2 = 17"),
    (
        "unsupported_head_size",
        lambda a: {k: resized(a[k], -1, 72) for k in ("query", "out", "key_cache", "value_cache")},
        ValueError, "query", "(32, 64, 80, 96, 128, 192, 256, 512)", "72",
    ),
    (
        "block_size_zero",
        lambda a: {"key_cache": resized(a["key_cache"], 2, 0), "value_cache": resized(a["value_cache"], 2, 0)},
        ValueError, "key_cache", "block_size >= 1", "0",
    ),
    ("kv_shapes_differ", lambda a: {"value_cache": resized(a["value_cache"], 0, 3)}, ValueError, "value_cache", "key_cache's shape", "(3, 2, 16, 64)"),
    ("unknown_layout", lambda a: {"kv_cache_layout": "BHSD"}, ValueError, "kv_cache_layout", "('HND', 'NHD')", "'BHSD'"),
    ("block_tables_device", lambda a: {"block_tables": other_device(a["block_tables"])}, ValueError, "block_tables", "the query's device", "one on"),
    ("key_cache_device", lambda a: {"key_cache": other_device(a["key_cache"])}, ValueError, "key_cache", "the query's device", "one on"),
    ("query_head_dim_strided", lambda a: {"query": strided_head_dim(a["query"])}, ValueError, "query", "stride 1", "(1024, 128, 2)"),
    ("out_head_dim_strided", lambda a: {"out": strided_head_dim(a["out"])}, ValueError, "out", "stride 1", "(1024, 128, 2)"),
    ("value_cache_head_dim_strided", lambda a: {"value_cache": strided_head_dim(a["value_cache"])}, ValueError, "value_cache", "stride 1", ", 2)"),
    ("block_tables_too_few_columns", lambda a: {"block_tables": a["block_tables"][:, :-1]}, ValueError, "block_tables", ">= ceil(max_context_len=600 / block_size=16)=38", "(2, 37)"),
    ("block_tables_rows", lambda a: {"block_tables": a["block_tables"][:1]}, ValueError, "block_tables", "num_seqs=2", "(1, 38)"),
    ("context_lens_length", lambda a: {"context_lens": a["context_lens"][:1]}, ValueError, "context_lens", "num_seqs=2", "1"),
    ("alibi_slopes_shape", lambda a: {"alibi_slopes": resized(a["alibi_slopes"], 0, 4)}, ValueError, "alibi_slopes", "[num_heads=8]", "(4,)"),
    ("workspace_too_small", lambda a: {"workspace_buffer": a["workspace_buffer"][:-1]}, ValueError, "workspace_buffer", f">= {REQUIRED_BYTES} bytes", f"{REQUIRED_BYTES - 1}"),
    ("workspace_not_contiguous", lambda a: {"workspace_buffer": resized(a["workspace_buffer"], 0, 2 * REQUIRED_BYTES)[::2]}, ValueError, "workspace_buffer", "contiguous", "(2,)"),
    ("partition_size", lambda a: {"partition_size": 512}, ValueError, "partition_size", "(256,)", "512"),
    ("mtp_zero", lambda a: {"mtp": 0}, ValueError, "mtp", ">= 1", "0"),
    ("max_context_len_negative", lambda a: {"max_context_len": -1}, ValueError, "max_context_len", ">= 0", "-1"),
    ("out_expanded", lambda a: {"out": a["out"][:1].expand(2, -1, -1)}, ValueError, "out", "no internal overlap", "strides (0, 64, 1)"),
    ("out_heads_share_memory", lambda a: {"out": a["out"].as_strided((2, 8, 64), (512, 32, 1))}, ValueError, "out", "do not share memory", "strides (512, 32, 1)"),
    ("scale_nan", lambda a: {"scale": float("nan")}, ValueError, "scale", "finite", "nan"),
    ("scale_inf", lambda a: {"scale": float("-inf")}, ValueError, "scale", "float32's range", "-inf"),
    ("scale_float32_overflow", lambda a: {"scale": 1e39}, ValueError, "scale", "3.4028236e+38", "1e+39"),
    ("soft_cap_nan", lambda a: {"logits_soft_cap": float("nan")}, ValueError, "logits_soft_cap", "<= 0 or inf (no cap)", "nan"),
    ("soft_cap_below_float32_normal", lambda a: {"logits_soft_cap": 1e-39}, ValueError, "logits_soft_cap", ">= 2^-126", "1e-39"),
    ("mtp_vs_query_rows", lambda a: {"mtp": 3}, ValueError, "query", "num_seqs * mtp rows (mtp=3", "2 rows"),
    ("mtp_two_context_lens", lambda a: {"mtp": 2}, ValueError, "context_lens", "num_seqs=1 entries (query.shape[0] / mtp=2)", "2"),
    ("cu_query_lens_dtype", lambda a: {"cu_query_lens": cu(a).long()}, TypeError, "cu_query_lens", "torch.int32", "torch.int64"),
    ("cu_query_lens_length", lambda a: {"cu_query_lens": cu(a, [0, 1, 2, 3])}, ValueError, "cu_query_lens", "[num_seqs + 1=3]", "(4,)"),
    ("cu_query_lens_too_short", lambda a: {"cu_query_lens": cu(a, [0])}, ValueError, "cu_query_lens", "or [num_seqs=2]", "(1,)"),
    ("cu_query_lens_ndim", lambda a: {"cu_query_lens": cu(a).view(1, 3)}, ValueError, "cu_query_lens", "1-D", "(1, 3)"),
    ("cu_query_lens_device", lambda a: {"cu_query_lens": other_device(cu(a))}, ValueError, "cu_query_lens", "the query's device", "one on"),
    ("cu_query_lens_strided", lambda a: {"cu_query_lens": cu(a, [0, 9, 1, 9, 2, 9])[::2]}, ValueError, "cu_query_lens", "stride 1", "(2,)"),
    ("cu_query_lens_out_rows", lambda a: {"cu_query_lens": cu(a), "out": a["out"][:1]}, ValueError, "out", "(2, 8, 64)", "(1, 8, 64)"),
    ("sinks_dtype", lambda a: {"sinks": torch.zeros(8, dtype=torch.float16, device=a["query"].device)}, TypeError, "sinks", "torch.float32", "torch.float16"),
    ("sinks_shape", lambda a: {"sinks": torch.zeros(4, device=a["query"].device)}, ValueError, "sinks", "[num_heads=8]", "(4,)"),
    ("sinks_ndim", lambda a: {"sinks": torch.zeros(8, 1, device=a["query"].device)}, ValueError, "sinks", "1-D", "(8, 1)"),
    ("sinks_device", lambda a: {"sinks": other_device(torch.zeros(8, device=a["query"].device))}, ValueError, "sinks", "the query's device", "one on"),
    ("sinks_strided", lambda a: {"sinks": torch.zeros(16, device=a["query"].device)[::2]}, ValueError, "sinks", "stride 1", "(2,)"),
    ("fp8_with_bf16_cache", lambda a: {"kv_cache_dtype": "fp8"}, TypeError, "key_cache", "torch.float8_e4m3fnuz or torch.float8_e4m3fn or torch.uint8 (kv_cache_dtype='fp8')", "torch.bfloat16"),
    ("auto_with_fp8_cache", lambda a: {k: v for k, v in fp8(a).items() if k != "kv_cache_dtype"}, TypeError, "key_cache", "torch.bfloat16 (the query's, as kv_cache_dtype='auto')", "torch.float8_e4m3fn"),
    ("fp8_value_cache_dtype_differs", lambda a: fp8(a, value_cache=a["value_cache"].to(torch.float8_e4m3fn).view(torch.uint8)), TypeError, "value_cache", "torch.float8_e4m3fn (the key_cache's)", "torch.uint8"),
    ("fp8_k_scale_dtype", lambda a: fp8(a, k_scale=a["k_scale"].half()), TypeError, "k_scale", "torch.float32 (per-tensor fp8 scale", "torch.float16"),
    ("fp8_v_scale_shape", lambda a: fp8(a, v_scale=torch.ones(2, device=a["query"].device)), ValueError, "v_scale", "one element", "(2,)"),
    ("fp8_k_scale_per_token", lambda a: fp8(a, k_scale=torch.ones(2, 16, device=a["query"].device)), ValueError, "k_scale", "per-tensor", "(2, 16)"),
    ("fp8_k_scale_device", lambda a: fp8(a, k_scale=other_device(a["k_scale"])), ValueError, "k_scale", "the query's device", "one on"),
    ("kv_cache_dtype_e5m2", lambda a: {"kv_cache_dtype": "fp8_e5m2"}, NotImplementedError, "kv_cache_dtype", "('auto', 'fp8', 'fp8_e4m3')", "'fp8_e5m2'"),
    ("kv_cache_dtype_unknown", lambda a: {"kv_cache_dtype": "fp4"}, ValueError, "kv_cache_dtype", "('auto', 'fp8', 'fp8_e4m3')", "'fp4'"),
    ("fp8_out_scale", lambda a: {"fp8_out_scale": torch.ones(1, device=a["query"].device)}, NotImplementedError, "fp8_out_scale", "None", "a tensor"),
]  # fmt: skip


def expect_rejected(args: dict, exc: type, name: str, expected: str, given: str) -> None:
    """Call the op; check exception, message ``<name>: expected <...expected...>, got <...given...>``, untouched ``out``."""
    out_before = args["out"].clone()
    with pytest.raises(exc) as info:
        torch.ops.aiter_swa.paged_attention_v1(*args.values())
    msg = str(info.value)
    assert msg.startswith(f"{name}: expected "), msg
    head, _, tail = msg.rpartition(", got ")
    assert expected in head and given in tail, msg
    assert torch.equal(args["out"], out_before), "out was written before the error"


@pytest.mark.parametrize("update,exc,name,expected,given", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected(device, update, exc, name, expected, given):
    args = valid_args(device)
    args.update(update(args))
    expect_rejected(args, exc, name, expected, given)


def test_rejections_survive_the_validation_cache(device):
    """After valid calls have filled the per-metadata cache (and its recent-metadata fast path), every
    bad input is still rejected: a cached outcome is reused only for identical metadata."""
    for _ in range(3):
        args = valid_args(device)
        torch.ops.aiter_swa.paged_attention_v1(*args.values())
    for _id, update, exc, name, expected, given in CASES:
        args = valid_args(device)
        args.update(update(args))
        expect_rejected(args, exc, name, expected, given)
    # same shapes, other strides: the cached record of the contiguous tensors must not be reused
    args = valid_args(device)
    args["query"] = strided_head_dim(args["query"])
    expect_rejected(args, ValueError, "query", "stride 1", "(1024, 128, 2)")


@pytest.mark.parametrize(
    "lens,max_context_len,given",
    [([10, 601], 600, "max 601"), ([-1, 600], 600, "min -1")],
    ids=["above_max_context_len", "negative"],
)
def test_cpu_checks_context_lens_values(lens, max_context_len, given):
    """The CPU path may read values: it rejects context_lens outside [0, max_context_len]."""
    args = valid_args("cpu")
    args["context_lens"] = torch.tensor(lens, dtype=torch.int32)
    args["max_context_len"] = max_context_len
    expect_rejected(args, ValueError, "context_lens", "[0, max_context_len=600]", given)


def test_valid_arguments_pass(device):
    args = valid_args(device)
    dims = validate(*args.values()).dims
    assert (dims.num_seqs, dims.num_heads, dims.num_kv_heads, dims.head_size, dims.block_size) == (2, 8, 2, 64, 16)
    assert (dims.gqa_ratio, dims.max_blocks_per_seq, dims.num_partitions) == (4, 38, 3)
    assert dims.workspace_layout[3] == REQUIRED_BYTES > 0


@pytest.mark.parametrize("kv_cache_dtype", ["fp8", "fp8_e4m3"])
@pytest.mark.parametrize("cache_dtype", [torch.float8_e4m3fn, torch.float8_e4m3fnuz, torch.uint8])
def test_valid_fp8_arguments_pass(device, kv_cache_dtype, cache_dtype):
    """Each fp8 cache dtype with vLLM's two names, scales of shape [] and [1]."""
    args = valid_args(device)
    args.update(kv_cache_dtype=kv_cache_dtype, k_scale=torch.tensor(0.5, device=device),
                v_scale=torch.tensor([2.0], device=device))
    for name in ("key_cache", "value_cache"):
        args[name] = args[name].to(torch.float8_e4m3fn).view(cache_dtype)
    assert validate(*args.values()).dims.num_partitions == 3


def test_auto_ignores_the_scales():
    """With kv_cache_dtype="auto" the scales are not checked (aiter's own test passes CPU tensors)."""
    args = valid_args("cpu")
    args.update(k_scale=torch.ones(3, dtype=torch.float16), v_scale=torch.ones(2, 2, device="meta"))
    validate(*args.values())


def test_cu_query_lens_is_used():
    """``cu_query_lens`` places the tokens (it used to be ignored): arange = one row per sequence, as
    without it; counts above ``mtp = 1`` skip their sequence (aiter's pa_v1), leaving ``out`` as it was."""
    args = valid_args("cpu")
    reference = args["out"].clone()
    torch.ops.aiter_swa.paged_attention_v1(*{**args, "out": reference}.values())
    torch.ops.aiter_swa.paged_attention_v1(*{**args, "cu_query_lens": cu(args)}.values())
    assert torch.equal(args["out"], reference)
    before = args["out"].clone()
    torch.ops.aiter_swa.paged_attention_v1(*{**args, "cu_query_lens": cu(args, [0, 5, 7])}.values())
    assert torch.equal(args["out"], before)


def test_multi_token_shapes_pass():
    """``mtp`` rows per sequence without ``cu_query_lens``; any row count with it (both lengths)."""
    args = valid_args("cpu")
    q, o = args["query"], args["out"]
    big = torch.empty(get_workspace_size(2, 8, 64, max(LENS), torch.bfloat16, mtp=4), dtype=torch.uint8)
    args.update(query=torch.cat([q, q, q]), out=torch.cat([o, o, o]), mtp=3, workspace_buffer=big)
    dims = validate(*args.values()).dims
    assert (dims.num_seqs, dims.num_rows, dims.mtp, dims.cu_len) == (2, 6, 3, 0)
    assert dims.workspace_layout[3] == get_workspace_size(2, 8, 64, max(LENS), torch.bfloat16, mtp=3)
    args.update(query=q[:1].expand(11, -1, -1).contiguous(), out=o[:1].expand(11, -1, -1).contiguous(), mtp=4)
    for values in ([0, 4, 8], [0, 4]):
        args["cu_query_lens"] = cu(args, values)
        dims = validate(*args.values()).dims
        assert (dims.num_seqs, dims.num_rows, dims.cu_len) == (2, 11, len(values))


def test_validation_reads_no_values():
    """On meta tensors (no data at all) validation and the fake impl succeed."""
    args = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in valid_args("cpu").items()}
    assert validate(*args.values()).dims.num_partitions == 3
    torch.ops.aiter_swa.paged_attention_v1(*args.values())


def test_float32_is_cpu_only():
    args = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in valid_args("cpu").items()}
    for k in ("query", "out", "key_cache", "value_cache"):
        args[k] = args[k].float()
    with pytest.raises(
        TypeError, match=r"^query: expected dtype torch.float16 or torch.bfloat16 on meta, got torch.float32"
    ):
        validate(*args.values())


@pytest.mark.gpu
def test_validation_does_not_synchronise():
    """No host-device sync on the call path: validation under torch.cuda's sync debug mode "error"."""
    args = valid_args("cuda")
    with no_host_sync():
        validate(*args.values())


def _with_context(args: dict, max_context_len: int) -> dict:
    """``args`` with this ``max_context_len`` and context lengths within it (the CPU path checks them)."""
    top = max(0, min(max_context_len, 2**31 - 1))
    lens = torch.tensor([min(LENS[0], top), top], dtype=torch.int32, device=args["context_lens"].device)
    return {**args, "max_context_len": max_context_len, "context_lens": lens}


def test_growing_max_context_len_reuses_the_checks(device, monkeypatch):
    """A decode loop whose max_context_len grows every step: the metadata's checks run once (the
    cache key leaves max_context_len out) and the sizes follow each call's max_context_len."""
    from aiter_swa.ops.pa_v1 import call as pa_call

    args = valid_args(device)
    monkeypatch.setenv("AITER_SWA_SELF_CHECK", "0")  # its built-in case would be checked too (an untested arch)
    pa_call._CHECKS.clear()
    runs = []
    real_check = pa_call.check
    monkeypatch.setattr(pa_call, "check", lambda c: runs.append(c.max_context_len) or real_check(c))
    records = set()
    for mcl in list(range(0, 600, 23)) + [600, 607, 608]:  # 1, 2, 3 partitions; 608 = 38 blocks of 16
        a = _with_context(args, mcl)
        torch.ops.aiter_swa.paged_attention_v1(*a.values())
        call = validate(*a.values())
        records.add(id(call.checked))
        assert call.dims.max_context_len == mcl and call.dims.num_partitions == -(-mcl // 256)
        assert call.dims.workspace_layout[3] == get_workspace_size(NUM_SEQS, NUM_HEADS, HEAD_SIZE, mcl, torch.bfloat16)
    assert runs == [0], f"the checks ran for max_context_len {runs}"
    assert len(records) == 1 and call.checked.max_context_limit == 608


@pytest.mark.parametrize("limited_by", ["block_tables", "workspace_buffer"])
def test_max_context_len_beyond_what_the_metadata_admits(device, limited_by):
    """After calls of the same metadata filled the caches (and, on a GPU, the fast path), a
    max_context_len above what the block table or the workspace admits raises the validation's
    error, ``out`` untouched; the admitted values still run."""
    args = valid_args(device)
    if limited_by == "workspace_buffer":  # a buffer for 2 partitions (512 keys); the block table holds 608
        small = get_workspace_size(NUM_SEQS, NUM_HEADS, HEAD_SIZE, 512, torch.bfloat16)
        args["workspace_buffer"] = torch.empty(small, dtype=torch.uint8, device=device)
        limit = 512
        expected = f">= {get_workspace_size(NUM_SEQS, NUM_HEADS, HEAD_SIZE, 513, torch.bfloat16)} bytes"
        given = str(small)
    else:
        limit, expected, given = 608, ">= ceil(max_context_len=609 / block_size=16)=39", "(2, 38)"
    for mcl in (1, 300, limit, 2):
        torch.ops.aiter_swa.paged_attention_v1(*_with_context(args, mcl).values())
    expect_rejected(_with_context(args, limit + 1), ValueError, limited_by, expected, given)
    expect_rejected(_with_context(args, 2**31), ValueError, "max_context_len", "<= 2147483647", "2147483648")
    expect_rejected(_with_context(args, -1), ValueError, "max_context_len", ">= 0", "-1")
    torch.ops.aiter_swa.paged_attention_v1(*_with_context(args, limit).values())


def _largest_admitted(num_seqs, heads, head_size, nbytes, dtype, window, mtp, bt_width, block_size) -> int:
    """The largest max_context_len that passes (bisection over get_workspace_size and the block table)."""
    from aiter_swa.ops.pa_v1.call import MAX_CONTEXT_LEN

    def ok(m):
        return (get_workspace_size(num_seqs, heads, head_size, m, dtype, window, mtp=mtp) <= nbytes
                and -(-m // block_size) <= bt_width)  # fmt: skip

    lo, hi = 0, MAX_CONTEXT_LEN
    if ok(hi):
        return hi
    while hi - lo > 1:  # ok(lo), not ok(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def test_max_context_limit_is_exact():
    """Checked.max_context_limit (what the fast path and the validation cache admit without the
    checks) is the largest max_context_len that passes them, for windows on and off, mtp, dtypes,
    buffers of any size (aiter's sizing included) and block-table widths; one above it is rejected."""
    import random

    from aiter_swa.ops.pa_v1.call import MAX_CONTEXT_LEN, lookup

    rng = random.Random(3)
    for _ in range(150):
        num_seqs, kvh, gqa = rng.choice((1, 2, 5)), rng.choice((1, 2)), rng.choice((1, 4))
        heads, head_size, mtp = kvh * gqa, rng.choice((64, 128)), rng.choice((1, 1, 3))
        dtype, block_size = rng.choice((torch.bfloat16, torch.float16)), rng.choice((1, 16, 272))
        window = rng.choice((0, -1, 1, 100, 255, 256, 257, 1000, 2**40))
        bt_width = rng.choice((1, 3, 40, 10**6, 10**8))
        aiter_ctx = rng.choice((1, 300, 5000, 70000))  # aiter's sizing for a context, or anything
        aiter_bytes = num_seqs * mtp * heads * -(-aiter_ctx // 256) * (head_size * dtype.itemsize + 8)
        nbytes = rng.choice((0, aiter_bytes, rng.randrange(10**7)))
        meta = dict(device="meta")
        q = torch.empty(num_seqs * mtp, heads, head_size, dtype=dtype, **meta)
        kv = torch.empty(4, kvh, block_size, head_size, dtype=dtype, **meta)
        i32 = dict(dtype=torch.int32, **meta)
        args = [torch.empty_like(q), torch.empty(nbytes, dtype=torch.uint8, **meta), q, kv, kv, 0.1,
                torch.empty(num_seqs, bt_width, **i32), None, torch.empty(num_seqs, **i32), 0, None, "auto", "HND",
                0.0, q, q, None, 256, mtp, window, None]  # fmt: skip
        expected = _largest_admitted(num_seqs, heads, head_size, nbytes, dtype, window, mtp, bt_width, block_size)
        args[9] = expected
        assert lookup(tuple(args)).max_context_limit == expected, (num_seqs, heads, head_size, nbytes, window, mtp)
        if expected < MAX_CONTEXT_LEN:
            args[9] = expected + 1
            with pytest.raises(ValueError, match="^(block_tables|workspace_buffer): expected"):
                validate(*args)
