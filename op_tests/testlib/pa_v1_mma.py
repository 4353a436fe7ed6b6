"""Multi-token cases and the emulator driver of the matrix-core pa_v1 kernel (issue 8).

- :func:`make_mtp_case`: a :class:`testlib.pa_v1.PaCase` whose query has several rows per sequence
  (``mtp`` each, or ``cu_query_lens``), NaN in every cache slot no row attends; :func:`fp8_codes_case`: all
  256 codes of an fp8 format through the V path, with the exact expected output.
- :func:`mtp_reference`: float64 reference of multi-token decode, from the one-token reference: the row
  of token ``i`` of ``n`` at position ``p = L - n + i`` attends exactly what a one-token query of a
  context of ``p + 1`` keys attends (keys ``max(0, p - w + 1) .. p``, ALiBi ``j - p``), so each row is
  a one-token sequence of context ``max(p + 1, 0)`` on its sequence's block table.
- :func:`mma_call`: the validated call object the GPU dispatch takes, and :class:`Emulator`: builds
  ``testlib/emulator/pa_v1_emu.cpp`` for one specialization and runs the launch values of
  ``aiter_swa.ops.pa_v1.gpu.launch_values`` on the CPU.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import shutil
import subprocess
from pathlib import Path

import torch

from aiter_swa.ops.pa_v1.call import PaV1Call, validate
from aiter_swa.ops.pa_v1.reference import paged_attention_reference
from aiter_swa.ops.pa_v1.spec import CPP_ELEMENT_TYPES, LAUNCH, NUM_THREADS, PARTITION_SIZE

from .pa_v1 import PaCase, make_case

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = Path(__file__).parent / "emulator"


@dataclasses.dataclass
class MtpCase:
    """A :class:`PaCase` with ``query`` of ``num_rows`` rows, plus ``mtp`` and ``cu_query_lens``."""

    case: PaCase
    mtp: int
    cu_query_lens: torch.Tensor | None = None

    def rows(self) -> list[tuple[int, int, int]]:
        """``(sequence, first row, token count)`` of each sequence (host values)."""
        lens = self.case.context_lens.tolist()
        if self.cu_query_lens is None:
            return [(s, s * self.mtp, self.mtp) for s in range(len(lens))]
        cu = self.cu_query_lens.tolist()
        ends = cu[1:] if len(cu) == len(lens) + 1 else cu[1:] + [self.case.query.shape[0]]
        counts = [e - b for b, e in zip(cu, ends)]  # aiter_swa/ops/pa_v1/tokens.py: outside [1, mtp] no token
        return [(s, cu[s], n if 1 <= n <= self.mtp else 0) for s, n in enumerate(counts)]


def make_mtp_case(*, num_seqs: int, mtp: int, query_lens: list[int] | None = None, sliding_window: int = 0,
                  cu: list[int] | None = None, num_rows: int | None = None, **kw) -> MtpCase:
    """``make_case`` (its keyword arguments) with ``mtp`` query tokens per sequence, or ``query_lens[s]``
    tokens (each <= mtp) through ``cu_query_lens``. The caches are poisoned outside the union of the
    rows' windows (``[max(0, L - n - w + 1), L)``: the one-token range of the window ``w + n - 1``)."""
    union = sliding_window + mtp - 1 if sliding_window > 0 else 0
    case = make_case(num_seqs=num_seqs, sliding_window=union, **kw)
    case.sliding_window = sliding_window
    if num_rows is None:
        num_rows = num_seqs * mtp if query_lens is None else sum(query_lens)
    gen = torch.Generator().manual_seed(kw.get("seed", 0) + 1000)
    _, num_heads, head_size = case.query.shape
    case.query = torch.empty(num_rows, num_heads, head_size, dtype=case.query.dtype).uniform_(-1, 1, generator=gen)
    if cu is not None:  # explicit values (any: the device contract of tokens.py)
        cu = torch.tensor(cu, dtype=torch.int32)
    elif query_lens is not None:
        assert all(0 <= n <= mtp for n in query_lens)
        cu = torch.tensor([0] + torch.tensor(query_lens).cumsum(0).tolist(), dtype=torch.int32)
    return MtpCase(case, mtp, cu)


def fp8_codes_case(fp8_dtype: torch.dtype, dtype: torch.dtype) -> tuple[MtpCase, torch.Tensor]:
    """All 256 codes of an fp8 format through the V path: one sequence of one key (its weight exactly 1),
    one head of size 256, HND, ``v_scale`` 0.5, key 0's value row holding codes 0..255. Returns the case (on
    the CPU) and the exact expected output row: half each code's value in ``dtype`` (every E4M3 value,
    halved, is an fp16 and a bf16 number), NaN for the NaN codes."""
    m = make_mtp_case(num_seqs=1, mtp=1, num_heads=1, num_kv_heads=1, head_size=256, block_size=16, context_lens=[1],
                      dtype=dtype, kv_dtype=fp8_dtype, v_scale=0.5, seed=3)  # fmt: skip
    codes = torch.arange(256, dtype=torch.uint8)
    m.case.value_cache.view(torch.uint8)[int(m.case.block_tables[0, 0]), 0, 0] = codes  # HND: key 0's row
    return m, (codes.view(fp8_dtype).float() * 0.5).to(dtype)


def owned_rows(m: MtpCase) -> torch.Tensor:
    """bool ``[num_rows]``: the rows some token writes (in range, of a sequence with 1..mtp tokens)."""
    num_rows = m.case.query.shape[0]
    owned = torch.zeros(num_rows, dtype=torch.bool)
    for _, row0, n in m.rows():
        for i in range(n):
            if 0 <= row0 + i < num_rows:
                owned[row0 + i] = True
    return owned


def mtp_reference(m: MtpCase) -> torch.Tensor:
    """float64 ``[num_rows, num_heads, head_size]`` (see the module docstring)."""
    c = m.case
    seqs, lens, rows = [], [], []
    for s, row0, n in m.rows():
        L = int(c.context_lens[s])
        for i in range(n):
            if not 0 <= row0 + i < c.query.shape[0]:
                continue
            seqs.append(s)
            lens.append(max(L - n + i + 1, 0))
            rows.append(row0 + i)
    k, v = c.key_cache, c.value_cache
    scales = (c.k_scale, c.v_scale) if c.kv_cache_dtype != "auto" else (1.0, 1.0)
    out = torch.zeros(c.query.shape, dtype=torch.float64)
    if seqs:
        ref = paged_attention_reference(
            c.query[rows], k, v, c.block_tables[seqs], torch.tensor(lens, dtype=torch.int32), c.scale, c.sliding_window,
            c.kv_cache_layout, c.logits_soft_cap, c.alibi_slopes, c.sinks, *scales,
        )  # fmt: skip
        out[rows] = ref
    return out


def mma_call(m: MtpCase, out: torch.Tensor, workspace: torch.Tensor) -> PaV1Call:
    """The validated call object of ``m`` (what the GPU dispatch takes)."""
    c = m.case
    one = torch.ones(1, dtype=torch.float32)
    args = PaV1Call(out=out, workspace_buffer=workspace, query=c.query, key_cache=c.key_cache, value_cache=c.value_cache,
                    scale=c.scale, block_tables=c.block_tables, cu_query_lens=m.cu_query_lens,
                    context_lens=c.context_lens, max_context_len=c.max_context_len, alibi_slopes=c.alibi_slopes,
                    kv_cache_dtype=c.kv_cache_dtype, kv_cache_layout=c.kv_cache_layout,
                    logits_soft_cap=c.logits_soft_cap, k_scale=c.k_scale if c.k_scale is not None else one,
                    v_scale=c.v_scale if c.v_scale is not None else one, mtp=m.mtp,
                    sliding_window=c.sliding_window, sinks=c.sinks)  # fmt: skip
    return validate(*args.args())


def aiter_workspace(m: MtpCase) -> torch.Tensor:
    """A workspace of aiter's sizing: ``num_seqs * mtp * num_heads * ceil(max_context_len / 256)`` partials."""
    c = m.case
    _, num_heads, head_size = c.query.shape
    n = c.context_lens.shape[0] * m.mtp * num_heads * max(-(-c.max_context_len // 256), 1)
    return torch.zeros(8 * n + n * head_size * c.query.element_size(), dtype=torch.uint8)


_CTYPES = {"ptr": ctypes.c_uint64, "int": ctypes.c_int64, "float": ctypes.c_double, "stream": ctypes.c_uint64}


class LaunchArgs(ctypes.Structure):
    """The launcher's parameters (spec.LAUNCH) as the emulator's C struct (launch_args.h)."""

    _fields_ = [(p.name, _CTYPES[p.kind]) for p in LAUNCH.params]


def _launch_args_header() -> str:
    lines = [f"  {p.cpp_type} {p.name};" for p in LAUNCH.params]
    return "#pragma once\n#include <cstdint>\nstruct LaunchArgs {\n" + "\n".join(lines) + "\n};\n"


def host_compiler() -> str | None:
    return shutil.which("clang++-19") or shutil.which("clang++") or shutil.which("g++")


class Emulator:
    """Builds and caches one emulator library per specialization in ``build_dir``."""

    def __init__(self, build_dir: Path):
        self.dir = Path(build_dir)
        self.libs = {}

    def lib(self, spec, key_tile: int | None = None) -> ctypes.CDLL:
        """The emulator of ``spec``'s matrix-core kernel with key tiles of ``key_tile`` (``spec.mma_form``: its
        own form by default, or its long form), or of its vector kernel."""
        wave = 64 if spec.arch.startswith("gfx") else 32
        flags = {
            "EMU_TQ": CPP_ELEMENT_TYPES[spec.q_dtype], "EMU_TKV": CPP_ELEMENT_TYPES[spec.kv_dtype],
            "EMU_TOUT": CPP_ELEMENT_TYPES[spec.out_dtype], "EMU_HS": spec.head_size, "EMU_ROWS": spec.mma_rows,
            "EMU_SW": int(spec.sliding_window), "EMU_CAP": int(spec.soft_cap), "EMU_ALIBI": int(spec.alibi),
            "AITER_SWA_WAVEFRONT_SIZE": wave,
        }  # fmt: skip
        if spec.mma_rows:  # the key tile and the K/V path of the spec's arch (sm_90, 16-bit KV: the ring)
            form = spec.mma_form(spec.key_tile if key_tile is None else key_tile)
            flags.update(EMU_KT=form["key_tile"], EMU_RING=int(spec.mma_ring),
                         EMU_MINWG=form["min_workgroups_per_sm"],  # the launch bound
                         EMU_WARPKV=int(spec.mma_warp_kv), EMU_STAGES=form["stages"])
        else:  # the vector kernel (kernel.h)
            flags.update(EMU_GQA=spec.gqa, EMU_P=PARTITION_SIZE, EMU_NT=NUM_THREADS)
        key = hashlib.sha256(repr(sorted(flags.items())).encode()).hexdigest()[:16]
        if key in self.libs:
            return self.libs[key]
        (self.dir / "launch_args.h").write_text(_launch_args_header())
        so = self.dir / f"pa_v1_emu_{key}.so"
        cmd = [host_compiler(), "-std=c++20", "-O1", "-fPIC", "-shared", "-D__HIPCC__",
               *(f"-D{k}={v}" for k, v in flags.items()), f"-I{EMULATOR}", f"-I{ROOT / 'csrc' / 'include'}",
               f"-I{self.dir}", str(EMULATOR / "pa_v1_emu.cpp"), "-o", str(so), "-lpthread"]  # fmt: skip
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"the pa_v1 emulator does not build ({flags}): {r.stderr[-3000:]}")
        lib = ctypes.CDLL(str(so))
        lib.emu_launch.argtypes = [ctypes.POINTER(LaunchArgs)]
        lib.emu_block_of.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.emu_async_copies.restype = ctypes.c_longlong
        lib.emu_misaligned_vector_stores.restype = ctypes.c_longlong
        if spec.mma_rows:  # emu_ring: whether the matrix-core kernel built here takes the K/V ring
            lib.emu_ring.restype = ctypes.c_int
            lib.emu_warp_kv.restype = ctypes.c_int
        self.libs[key] = lib
        return lib

    def run(self, call: PaV1Call, arch: str, num_cus: int, kernel: str = "mma") -> tuple:
        """Launch ``call`` (CPU tensors) as the GPU dispatch would on ``arch`` with ``num_cus`` CUs, with
        the matrix-core kernel (``kernel="mma"``) or the vector kernel (``"vector"``); returns
        ``(spec, launch values)``."""
        from aiter_swa.ops.pa_v1.gpu import launch_values

        spec, values = launch_values(call, arch, num_cus, kernel)
        ptr = lambda t: 0 if t is None else t.data_ptr()  # noqa: E731
        fp8 = call.kv_cache_dtype != "auto"
        a = LaunchArgs(
            out=ptr(call.out), query=ptr(call.query), key_cache=ptr(call.key_cache), value_cache=ptr(call.value_cache),
            block_tables=ptr(call.block_tables), cu_query_lens=ptr(call.cu_query_lens),
            context_lens=ptr(call.context_lens), alibi_slopes=ptr(call.alibi_slopes), sinks=ptr(call.sinks),
            k_scale=ptr(call.k_scale) if fp8 else 0, v_scale=ptr(call.v_scale) if fp8 else 0,
            workspace=ptr(call.workspace_buffer), scale=call.scale, soft_cap=call.logits_soft_cap, stream=0, **values,
        )  # fmt: skip
        lib = self.lib(spec, values["key_tile"] or None)  # the form the launcher runs
        before = lib.emu_misaligned_vector_stores()
        lib.emu_launch(ctypes.byref(a))
        misaligned = lib.emu_misaligned_vector_stores() - before
        assert misaligned == 0, (
            f"{spec.name}: {misaligned} 16-byte stores at addresses not a multiple of 16 (a GPU faults there)")
        return spec, values
