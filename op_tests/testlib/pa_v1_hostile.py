"""Hostile metadata for ``paged_attention_v1``: block ids and context lengths that no valid call has,
and the output the op's contract defines for each (docs/design.md, "Metadata the kernel cannot trust").

Shared by ``pa_v1/test_pa_v1_robustness.py`` (pytest, CPU and GPU) and
``pa_v1/sanitize_pa_v1.py`` (the same cases on the GPU under compute-sanitizer memcheck).

Each :class:`Hostile` holds the op's inputs (``case``, with the hostile values) and what each
sequence's ``out`` row must be: ``"ref"`` (equal to the float64 reference of ``ref_case``, the valid
inputs the contract makes it equivalent to), ``"nan"`` (every element NaN) or ``"zeros"``.
"""

from __future__ import annotations

import dataclasses

import torch

from aiter_swa.ops.pa_v1 import debug_checks

from .pa_v1 import PaCase, make_case, mismatch, widen_block_table

INT32_MAX, INT32_MIN = 2**31 - 1, -(2**31)


@dataclasses.dataclass
class Hostile:
    name: str
    case: PaCase
    expect: list  # per sequence: "ref", "nan" or "zeros"
    ref_case: PaCase
    #: Which argument AITER_SWA_DEBUG_CHECKS=1 names in its ValueError (None: the call is valid).
    debug_error: str | None
    #: The CPU path rejects context_lens outside [0, max_context_len] (ValueError) instead of clamping.
    cpu_rejects: bool = False


def _copy(case: PaCase, **changes) -> PaCase:
    return dataclasses.replace(case, block_tables=case.block_tables.clone(), **changes)


def _base(device, lens, window=0, *, seed, heads=(8, 2), head_size=64, block_size=16, layout="HND", dtype=torch.bfloat16):
    return make_case(
        num_seqs=len(lens), num_heads=heads[0], num_kv_heads=heads[1], head_size=head_size, block_size=block_size,
        context_lens=lens, dtype=dtype, device=device, sliding_window=window, kv_cache_layout=layout, seed=seed,
    )  # fmt: skip


def hostile_cases(device) -> list:
    """Every hostile case, built on ``device`` (deterministic)."""
    cases = []
    num_blocks_of = lambda c: c.key_cache.shape[0]  # noqa: E731
    # A bad block id inside the attended range of sequence 1: one partition (window 100) and split-K
    # (no window, 1000 keys: 4 partitions; the id sits in one of them), first and last attended block.
    for shape, lens, window, layout in (("one_partition", [50, 90, 100], 100, "HND"),
                                        ("split_k", [300, 1000, 700], 0, "NHD")):  # fmt: skip
        base = _base(device, lens, window, seed=11, layout=layout)
        for cache in (base.key_cache, base.value_cache):  # a spare block, finite: where torch's index -1 lands
            cache[-1].uniform_(-1, 1)
        lo = max(0, lens[1] - window) if window > 0 else 0
        for where, col in (("first", lo // 16), ("last", (lens[1] - 1) // 16)):
            for bad in (-1, num_blocks_of(base), INT32_MAX, INT32_MIN):
                case = _copy(base)
                case.block_tables[1, col] = bad
                cases.append(Hostile(f"block_id_{bad}_{where}_{shape}", case, ["ref", "nan", "ref"], base, "block_tables"))
    # Garbage (negative, huge) in block-table entries no attended key uses: before the window and past
    # the context (a wider table): valid, never read.
    base = _base(device, [500, 300, 33], 64, seed=12)
    case = _copy(base)
    wide = widen_block_table(case, case.block_tables.shape[1] + 3, INT32_MIN)
    for i, L in enumerate([500, 300, 33]):
        wide[i, : max(0, L - 64) // 16] = -1  # before the window
        wide[i, -(-L // 16) :] = INT32_MAX  # past the context
    cases.append(Hostile("garbage_outside_attended_blocks", case, ["ref"] * 3, base, None))
    # context_lens above max_context_len (clamped to it) and negative (clamped to 0: zeros).
    base = _base(device, [300, 300, 300], 128, seed=13)
    for name, value, expect in (("above_max", 301, "ref"), ("int32_max", INT32_MAX, "ref"),
                                ("negative", -5, "zeros"), ("int32_min", INT32_MIN, "zeros")):  # fmt: skip
        case = _copy(base, context_lens=base.context_lens.clone())
        case.context_lens[0] = value
        cases.append(Hostile(f"context_len_{name}", case, [expect, "ref", "ref"], base, "context_lens", cpu_rejects=True))
    # max_context_len = 0 (no block-table column, no partition) with positive context lengths: zeros.
    base = _base(device, [0, 0], seed=14)
    case = _copy(base, context_lens=torch.tensor([5, INT32_MAX], dtype=torch.int32, device=device))
    cases.append(Hostile("max_context_len_0", case, ["zeros", "zeros"], base, "context_lens", cpu_rejects=True))
    # A window beyond int32 or below -2^31: exactly no window.
    base = _base(device, [700, 20], 0, seed=15)
    for w in (2**32 + 5, 2**31, 2**63 - 1, -(2**32) + 5):
        cases.append(Hostile(f"window_{w}", _copy(base, sliding_window=w), ["ref", "ref"], base, None))
    # An empty cache (num_blocks = 0): every sequence with a key has a bad id; L = 0 gives zeros.
    base = _base(device, [0, 40], seed=16)
    case = _copy(base, key_cache=base.key_cache[:0], value_cache=base.value_cache[:0])
    cases.append(Hostile("no_blocks", case, ["zeros", "nan"], base, "block_tables"))
    # A sequence with L = 0 whose whole row holds garbage: not read.
    base = _base(device, [0, 100], seed=17)
    case = _copy(base)
    case.block_tables[0] = -1
    cases.append(Hostile("empty_sequence_garbage_row", case, ["zeros", "ref"], base, None))
    return cases


def run_hostile(h: Hostile, debug: bool = False) -> list:
    """Run one case (``debug``: with :mod:`debug_checks` on); the problems found (empty when the contract holds).

    Without debug: ``out`` (NaN-poisoned first) must hold, row by row, what ``h.expect`` says. With
    debug: a hostile case must raise ValueError naming ``h.debug_error`` with ``out`` unwritten; a
    valid one must run as without debug. On the CPU a context length outside ``[0,
    max_context_len]`` must raise ValueError naming ``context_lens`` in both modes.
    """
    case = h.case
    out = torch.full_like(case.query, float("nan"))
    args = case.op_args(out, case.workspace())
    expect_error = (h.debug_error if debug else None) or ("context_lens" if h.cpu_rejects and out.device.type == "cpu" else None)
    saved = debug_checks.ENABLED
    debug_checks.ENABLED = debug
    try:
        torch.ops.aiter_swa.paged_attention_v1(*args)
        if out.is_cuda:
            torch.cuda.synchronize()
    except ValueError as e:
        if expect_error is None:
            return [f"unexpected ValueError: {e}"]
        if not str(e).startswith(f"{expect_error}: expected "):
            return [f"ValueError does not name {expect_error}: {e}"]
        return [] if bool(out.isnan().all()) else ["out was written before the ValueError"]
    finally:
        debug_checks.ENABLED = saved
    if expect_error is not None:
        return [f"no ValueError naming {expect_error}"]
    problems = []
    ref = None
    for i, what in enumerate(h.expect):
        row = out[i].float().cpu()
        if what == "nan" and not bool(row.isnan().all()):
            problems.append(f"sequence {i}: expected NaN everywhere, got {int(row.isnan().sum())} NaN of {row.numel()}")
        elif what == "zeros" and not bool((row == 0).all()):
            problems.append(f"sequence {i}: expected zeros, got max |x| {row.abs().max().item()}")
        elif what == "ref":
            ref = h.ref_case.reference() if ref is None else ref
            why = mismatch(out[i : i + 1], ref[i : i + 1])
            if why:
                problems.append(f"sequence {i}: {why}")
    return problems
