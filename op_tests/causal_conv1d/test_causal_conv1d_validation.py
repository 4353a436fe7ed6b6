"""Argument validation of ``causal_conv1d_fwd`` / ``causal_conv1d_update``: one test per bad input.

Each checks the exception type, the message ``<argument>: expected <...>, got <...>``, and that
neither ``out`` nor the cache was written. Validation reads metadata only: it runs on meta tensors,
and on a GPU under sync debug mode "error".
"""

from __future__ import annotations

import pytest
import torch

from aiter_swa.ops.causal_conv1d.call import FWD_ARG_NAMES, UPDATE_ARG_NAMES, validate_fwd, validate_update
from testlib import no_host_sync
from testlib.causal_conv1d import bits, make_fwd_case, make_update_case

LENS = [3, 0, 9, 1]


def fwd_args(device, layout="channel_first") -> dict:
    case = make_fwd_case(LENS, dim=32, width=4, device=device, layout=layout, initial=[True, False, True, False])
    return dict(zip(FWD_ARG_NAMES, case.op_args(case.new_out(fill=7.0))))


def update_args(device) -> dict:
    case = make_update_case(3, dim=32, width=3, device=device)
    return dict(zip(UPDATE_ARG_NAMES, case.op_args(torch.full_like(case.x, 7.0))))


def other_device(t):
    return t.to("meta" if t.device.type == "cpu" else "cpu")


def _resized(t, dim, size):
    shape = list(t.shape)
    shape[dim] = size
    return torch.zeros(shape, dtype=t.dtype, device=t.device)


def _shifted_pair(x):
    """x and an out that starts one row of dim elements later in the same buffer."""
    buf = torch.zeros(x.numel() + x.shape[1], dtype=x.dtype, device=x.device)
    new_x = buf[: x.numel()].view(x.shape)
    new_x.copy_(x)
    return {"x": new_x, "out": buf[x.shape[1] :].view(x.shape)}


# (id, update of the valid arguments, exception, argument named, expected text, given text)
FWD_CASES = [
    ("x_dtype", lambda a: {"x": a["x"].to(torch.int16)}, TypeError, "x", "torch.float16", "torch.int16"),
    ("out_dtype", lambda a: {"out": a["out"].float()}, TypeError, "out", "torch.bfloat16 (x's)", "torch.float32"),
    ("weight_dtype", lambda a: {"weight": a["weight"].half()}, TypeError, "weight", "torch.bfloat16", "torch.float16"),
    ("bias_dtype", lambda a: {"bias": a["bias"].float()}, TypeError, "bias", "torch.bfloat16", "torch.float32"),
    ("conv_states_dtype", lambda a: {"conv_states": a["conv_states"].float()}, TypeError, "conv_states", "torch.bfloat16", "torch.float32"),
    ("query_start_loc_dtype", lambda a: {"query_start_loc": a["query_start_loc"].long()}, TypeError, "query_start_loc", "torch.int32", "torch.int64"),
    ("cache_indices_dtype", lambda a: {"cache_indices": a["cache_indices"].long()}, TypeError, "cache_indices", "torch.int32", "torch.int64"),
    ("has_initial_state_dtype", lambda a: {"has_initial_state": a["has_initial_state"].int()}, TypeError, "has_initial_state", "torch.bool", "torch.int32"),
    ("x_ndim", lambda a: {"x": a["x"][None]}, ValueError, "x", "2-D tensor [dim, total_tokens]", "(1, 32, 13)"),
    ("x_no_unit_stride", lambda a: {"x": _resized(a["x"], 1, 26)[:, ::2]}, ValueError, "x", "stride 1 along total_tokens", "(26, 2)"),
    ("out_shape", lambda a: {"out": a["out"][:, :-1]}, ValueError, "out", "(32, 13)", "(32, 12)"),
    ("out_strides", lambda a: {"out": a["out"].t().contiguous().t()}, ValueError, "out", "x's strides (13, 1)", "(1, 32)"),
    ("out_overlaps_x", lambda a: {"out": a["x"]}, ValueError, "out", "does not overlap x", "one that does"),
    ("weight_width", lambda a: {"weight": _resized(a["weight"], 1, 5)}, ValueError, "weight", "width in (2, 3, 4)", "(32, 5)"),
    ("weight_dim", lambda a: {"weight": _resized(a["weight"], 0, 16)}, ValueError, "weight", "[dim=32", "(16, 4)"),
    ("bias_shape", lambda a: {"bias": a["bias"][:8]}, ValueError, "bias", "(32,)", "(8,)"),
    ("bias_strided", lambda a: {"bias": _resized(a["bias"], 0, 64)[::2]}, ValueError, "bias", "contiguous", "stride 2"),
    ("conv_states_width", lambda a: {"conv_states": _resized(a["conv_states"], 2, 4)}, ValueError, "conv_states", "width - 1=3]", "(11, 32, 4)"),
    ("conv_states_ndim", lambda a: {"conv_states": a["conv_states"][0]}, ValueError, "conv_states", "3-D", "(32, 3)"),
    ("query_start_loc_empty", lambda a: {"query_start_loc": a["query_start_loc"][:0]}, ValueError, "query_start_loc", "at least one entry", "(0,)"),
    ("cache_indices_length", lambda a: {"cache_indices": a["cache_indices"][:2]}, ValueError, "cache_indices", "(4,)", "(2,)"),
    ("has_initial_state_length", lambda a: {"has_initial_state": a["has_initial_state"][:3]}, ValueError, "has_initial_state", "(4,)", "(3,)"),
    ("too_few_lines_without_indices", lambda a: {"cache_indices": None, "conv_states": a["conv_states"][:3]}, ValueError, "conv_states", "num_cache_lines >= num_seqs=4", "3"),
    ("query_start_loc_device", lambda a: {"query_start_loc": other_device(a["query_start_loc"])}, ValueError, "query_start_loc", "(x's device)", "one on"),
    ("activation", lambda a: {"activation": "relu"}, ValueError, "activation", "'silu', 'swish'", "'relu'"),
    ("pad_slot_id_range", lambda a: {"pad_slot_id": 2**40}, ValueError, "pad_slot_id", "int32", str(2**40)),
    ("seq_lens_cpu_length", lambda a: {"seq_lens_cpu": [3, 0, 9]}, ValueError, "seq_lens_cpu", "4 lengths", "3 lengths"),
    ("seq_lens_cpu_sum", lambda a: {"seq_lens_cpu": [3, 0, 9, 5]}, ValueError, "seq_lens_cpu", "total_tokens=13", "summing to 17"),
]  # fmt: skip

UPDATE_CASES = [
    ("x_ndim", lambda a: {"x": a["x"][..., None, None], "out": a["out"][..., None, None]}, ValueError, "x", "2-D [batch, dim] or 3-D", "(3, 32, 1, 1)"),
    ("out_dtype", lambda a: {"out": a["out"].float()}, TypeError, "out", "(x's)", "torch.float32"),
    ("conv_state_dtype", lambda a: {"conv_state": a["conv_state"].half()}, TypeError, "conv_state", "torch.bfloat16", "torch.float16"),
    ("conv_state_width", lambda a: {"conv_state": _resized(a["conv_state"], 2, 3)}, ValueError, "conv_state", "width - 1=2]", "(9, 32, 3)"),
    ("indices_length", lambda a: {"conv_state_indices": a["conv_state_indices"][:1]}, ValueError, "conv_state_indices", "(3,)", "(1,)"),
    ("out_partial_overlap", lambda a: _shifted_pair(a["x"]), ValueError, "out", "x itself", "partial overlap"),
    ("activation", lambda a: {"activation": "gelu"}, ValueError, "activation", "'silu'", "'gelu'"),
]  # fmt: skip


def expect_rejected(op, args: dict, exc, name, expected, given, state_key):
    out_before = bits(args["out"].detach().cpu().clone())
    states_before = bits(args[state_key].detach().cpu().clone()) if args[state_key].device.type != "meta" else None
    with pytest.raises(exc) as info:
        op(*args.values())
    msg = str(info.value)
    assert msg.startswith(f"{name}: expected "), msg
    head, _, tail = msg.rpartition(", got ")
    assert expected in head and given in tail, msg
    if args["out"].device.type != "meta":
        assert torch.equal(bits(args["out"].detach().cpu()), out_before), "out was written before the error"
    if states_before is not None:
        assert torch.equal(bits(args[state_key].detach().cpu()), states_before), "the cache was written before the error"


@pytest.mark.parametrize("update,exc,name,expected,given", [c[1:] for c in FWD_CASES], ids=[c[0] for c in FWD_CASES])
def test_fwd_rejected(device, update, exc, name, expected, given):
    args = fwd_args(device)
    torch.ops.aiter_swa.causal_conv1d_fwd(*fwd_args(device).values())  # fill the validation cache first
    args.update(update(args))
    expect_rejected(torch.ops.aiter_swa.causal_conv1d_fwd, args, exc, name, expected, given, "conv_states")


@pytest.mark.parametrize("update,exc,name,expected,given", [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES])
def test_update_rejected(device, update, exc, name, expected, given):
    args = update_args(device)
    args.update(update(args))
    expect_rejected(torch.ops.aiter_swa.causal_conv1d_update, args, exc, name, expected, given, "conv_state")


# Value checks of the CPU path (the GPU never reads device values on the host).
CPU_VALUE_CASES = [
    ("query_start_loc_decreasing", {"query_start_loc": [0, 3, 2, 12, 13]}, "query_start_loc", "non-decreasing", "[0, 3, 2, 12, 13]"),
    ("query_start_loc_past_end", {"query_start_loc": [0, 3, 3, 12, 14]}, "query_start_loc", "total_tokens=13", "14"),
    ("cache_index_out_of_range", {"cache_indices": [0, 1, 99, -1]}, "cache_indices", "[0, num_cache_lines=11)", "[99]"),
    ("seq_lens_cpu_differs", {"seq_lens_cpu": [3, 1, 8, 1]}, "seq_lens_cpu", "[3, 0, 9, 1]", "[3, 1, 8, 1]"),
]  # fmt: skip


@pytest.mark.parametrize("change,name,expected,given", [c[1:] for c in CPU_VALUE_CASES], ids=[c[0] for c in CPU_VALUE_CASES])
def test_cpu_value_checks(change, name, expected, given):
    args = fwd_args("cpu")
    for k, v in change.items():
        args[k] = v if k == "seq_lens_cpu" else torch.tensor(v, dtype=torch.int32)
    expect_rejected(torch.ops.aiter_swa.causal_conv1d_fwd, args, ValueError, name, expected, given, "conv_states")


def test_layouts_detected():
    assert validate_fwd(*fwd_args("cpu").values()).dims.layout == "channel_first"
    assert validate_fwd(*fwd_args("cpu", "channel_last").values()).dims.layout == "channel_last"


def test_validation_reads_no_values():
    """On meta tensors (no data) validation and the fake impls succeed."""
    for args, validate, op in ((fwd_args("cpu"), validate_fwd, torch.ops.aiter_swa.causal_conv1d_fwd),
                               (update_args("cpu"), validate_update, torch.ops.aiter_swa.causal_conv1d_update)):  # fmt: skip
        meta = {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in args.items()}
        assert validate(*meta.values()).dims.width in (3, 4)
        op(*meta.values())


def test_opcheck():
    """torch.library.opcheck: schema, fake impl and the CPU kernel agree (mutated args declared)."""
    args = fwd_args("cpu")
    torch.library.opcheck(torch.ops.aiter_swa.causal_conv1d_fwd.default, tuple(args.values()),
                          test_utils=("test_schema", "test_faketensor"))  # fmt: skip
    uargs = update_args("cpu")
    torch.library.opcheck(torch.ops.aiter_swa.causal_conv1d_update.default, tuple(uargs.values()),
                          test_utils=("test_schema", "test_faketensor"))  # fmt: skip


@pytest.mark.gpu
def test_validation_does_not_synchronise():
    args = fwd_args("cuda")
    with no_host_sync():
        validate_fwd(*args.values())
