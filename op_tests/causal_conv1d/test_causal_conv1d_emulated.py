"""The device code of the HIP/CUDA kernels, run on the CPU by an emulator, against the float64 reference.

No GPU here, and the GPU tests skip: this runs the real ``fwd_kernel`` / ``update_kernel`` of
``csrc/include/aiter_swa/causal_conv1d/kernel.h`` (the header with its host launch functions cut off)
compiled by the host C++ compiler against ``testlib/emulator/hip/hip_runtime.h`` (one std::thread per GPU
thread, a barrier for ``__syncthreads``; see ``emulator/emu.cpp``), with the arguments the GPU dispatch
would pass. It checks the kernels' indexing, tiling, sequence search, state hand-off and partial
vector stores; not timing, memory ordering across workgroups or the vendor compilers (the
``toolchain`` and ``gpu`` tests do those).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aiter_swa.ops.causal_conv1d import spec as conv_spec
from aiter_swa.ops.causal_conv1d.call import validate_fwd, validate_update
from testlib.causal_conv1d import (DTYPES, assert_fwd_matches, assert_states, bits, make_fwd_case, make_update_case,
                                   shifted_by_one_element, strided_weight_offset_bias)  # fmt: skip

HERE = Path(__file__).parent
HEADER = HERE.parents[1] / "csrc" / "include" / "aiter_swa" / "causal_conv1d" / "kernel.h"
CUT = "// Host launches from the launchers' arguments"
_DT = {torch.float16: 0, torch.bfloat16: 1, torch.float32: 2}


def _build_emulator(tmp_path_factory, wave):
    """The emulator library of kernel.h for wavefronts of ``wave`` lanes (64: gfx9; 32: NVIDIA's warps)."""
    cxx = shutil.which("clang++-19") or shutil.which("clang++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no host C++ compiler (clang++-19, clang++ or g++)")
    d = tmp_path_factory.mktemp(f"conv1d_emu{wave}")
    text = HEADER.read_text()
    (d / "kernel_device.h").write_text(text[: text.index(CUT)] + "}  // namespace causal_conv1d\n}  // namespace aiter_swa\n")
    cmd = [cxx, "-std=c++20", "-O1", "-fPIC", "-shared", "-D__HIPCC__", f"-DAITER_SWA_WAVEFRONT_SIZE={wave}",
           f"-I{HERE.parent / 'testlib' / 'emulator'}", f"-I{HERE.parents[1] / 'csrc' / 'include'}", f"-I{d}",
           str(HERE / "emulator" / "emu.cpp"), "-o", str(d / "emu.so"), "-lpthread"]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        # our code: a build failure is a failure (a header change the emulator lacks hid every test once)
        pytest.fail(f"the emulator does not build with {cxx}: {r.stderr[-2000:]}")
    lib = ctypes.CDLL(str(d / "emu.so"))
    lib.emu_fwd.argtypes = [ctypes.c_int] * 4 + [ctypes.c_void_p] * 8 + [ctypes.c_int] * 13
    lib.emu_update.argtypes = [ctypes.c_int] * 3 + [ctypes.c_void_p] * 6 + [ctypes.c_int] * 4 + [ctypes.c_int64] * 12
    lib.emu_misaligned_and_reset.restype = ctypes.c_long
    lib.emu_unordered_heads_and_reset.restype = ctypes.c_long
    lib.emu_last_fwd.argtypes = [ctypes.POINTER(ctypes.c_uint)]
    lib.emu_last_fwd.restype = ctypes.c_int
    return lib


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    return _build_emulator(tmp_path_factory, 64)


@pytest.fixture(scope="module")
def emu32(tmp_path_factory):
    return _build_emulator(tmp_path_factory, 32)


def _p(t):
    return None if t is None else t.data_ptr()


#: emu_fwd's ``tuned`` codes (emulator/emu.cpp) of the spec's tuning variants, by the benchmark's
#: ``--variants`` spelling; 1 is bf16 w4 SiLU only, 2-4 (channel-first) any dtype with w4 SiLU.
TUNED = {"cl_run=8": 1, "cf_rows=8": 1, "cf_rows=2": 2, "cf_fast=0": 3, "cf_fast=0,cf_rows=2": 4, "walk=1": 5}
CF_VARIANTS = ["cf_rows=2", "cf_fast=0", "cf_fast=0,cf_rows=2", "walk=1"]
#: the kernel each test below runs: the op's (default) and the walking variant (walk=1: every dtype,
#: width, activation and layout; its outputs and states also compared bit for bit with the default's)
KERNELS = ["default", "walk=1"]


def emu_fwd(lib, case, out, tuned=0):
    """What gpu.run_fwd launches, on the emulator (the same validation first); ``tuned``: 0 or a
    code of ``TUNED`` (a tuning variant of the spec; width 4, SiLU only)."""
    c = validate_fwd(*case.op_args(out))
    d = c.dims
    sw, ss = c.weight.stride(), c.conv_states.stride()
    lib.emu_fwd(_DT[c.x.dtype], d.width, d.activation == "silu", d.layout == "channel_last", _p(out), _p(c.x),
                _p(c.weight), _p(c.bias), _p(c.conv_states), _p(c.query_start_loc), _p(c.cache_indices),
                _p(c.has_initial_state), d.num_seqs, d.dim, d.total_tokens, c.pad_slot_id, d.num_cache_lines,
                c.x.stride(0), c.x.stride(1), sw[0], sw[1], *ss, int(tuned))  # fmt: skip
    assert lib.emu_misaligned_and_reset() == 0, "a 16-byte access off a 16-byte boundary (a GPU faults)"
    assert lib.emu_unordered_heads_and_reset() == 0, "a head listed outside wavefront 0 under HEADS_IN_WAVE0 (a race)"
    _assert_ran(lib, c, tuned)


def _assert_ran(lib, c, tuned):
    """The emulator ran fwd_kernel_walk exactly for walk=1, on spec.fwd_grid's grid (the host's mirror)."""
    grid = (ctypes.c_uint * 2)()
    walk = int(tuned == TUNED["walk=1"])
    ran = lib.emu_last_fwd(grid)
    d = c.dims
    if d.total_tokens == 0 or d.dim == 0 or d.num_seqs == 0:
        return
    if tuned in (0, TUNED["walk=1"]):
        assert ran == walk, f"the emulator ran {'fwd_kernel_walk' if ran == 1 else 'fwd_kernel'}, expected walk={walk}"
        dt = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float32: "fp32"}[c.x.dtype]
        want = conv_spec.fwd_grid(d.total_tokens, d.dim, dt, d.layout, walk=walk)
        assert tuple(grid) == want, f"kernel grid {tuple(grid)}, spec.fwd_grid {want}"
    else:
        assert ran == 0


def run_and_check(lib, case, kernel, what, make_out=None):
    """The forward on the emulator with ``kernel`` (``KERNELS``), checked against the float64 reference;
    walk=1 also bit for bit against the default kernel's outputs and states (the same math order)."""
    make_out = make_out or case.new_out
    before = case.conv_states.clone()
    ref = case.reference()
    out = make_out()
    emu_fwd(lib, case, out)
    assert_fwd_matches(case, out, before, ref, what)
    if kernel == "default":
        return
    default_out, default_states = out, case.conv_states.clone()
    case.conv_states.copy_(before)
    out = make_out()
    emu_fwd(lib, case, out, tuned=TUNED[kernel])
    assert_fwd_matches(case, out, before, ref, f"{what} {kernel}")
    assert torch.equal(bits(out), bits(default_out)), f"{what}: {kernel} wrote other bits than the default kernel"
    assert torch.equal(bits(case.conv_states), bits(default_states)), f"{what}: {kernel}: other states than the default"


GRID = list(itertools.product(("fp32", "bf16", "fp16"), (2, 3, 4), ("channel_first", "channel_last"), ("silu", None)))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("params", GRID, ids=[f"{d}-w{w}-{'cl' if l == 'channel_last' else 'cf'}-{a or 'none'}" for d, w, l, a in GRID])
def test_emulated_fwd(emu, params, kernel):
    dt, width, layout, act = params
    # 0, 1, < width, long sequences, a pad; 141 tokens: three tiles, the last one partial
    case = make_fwd_case([0, 1, 2, 3, 5, 70, 1, 17, 40], dim=72, width=width, dtype=DTYPES[dt], layout=layout,
                         activation=act, bias=width != 3, initial=[True, False, True, True, False, True, True, False, True],
                         pads=(3,), extra_tokens=2, seed=width)  # fmt: skip
    run_and_check(emu, case, kernel, f"emulated {params}")


@pytest.mark.parametrize("dt, layout", [("bf16", "channel_first"), ("fp32", "channel_first"), ("bf16", "channel_last"),
                                        ("fp16", "channel_last")])  # fmt: skip
def test_emulated_fwd_wave32_heads_everywhere(emu32, dt, layout):
    """32-lane warps (NVIDIA): sequences of 1 to 9 tokens start in every 8-token group of each tile, the
    tile's first and last tokens included, so every phase-0 thread lists heads. Only wavefront 0 may
    (ConvSpec::HEADS_IN_WAVE0: the counter's reset is ordered by that wavefront's barrier alone); a head
    listed by another warp before the reset, or a group left to one, loses states and outputs here."""
    g = torch.Generator().manual_seed(7)
    lens = [int(v) for v in torch.randint(1, 10, (130,), generator=g)]
    lens[3] = 0  # an empty sequence among them
    case = make_fwd_case(lens, dim=40, width=4, dtype=DTYPES[dt], layout=layout, initial=[i % 3 != 1 for i in range(130)],
                         pads=(5, 64), extra_tokens=3, seed=11)  # fmt: skip
    assert sum(lens) > 2 * 256  # several bf16 channel-first tiles (256 tokens)
    run_and_check(emu32, case, "default", f"wave 32 {dt} {layout}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_emulated_fwd_short_sequences_across_tiles(emu, layout, kernel):
    g = torch.Generator().manual_seed(3)
    lens = torch.randint(0, 4, (90,), generator=g).tolist()
    case = make_fwd_case(lens, dim=40, width=4, layout=layout, initial=True, pads=(5, 77), seed=4)
    run_and_check(emu, case, kernel, "short sequences")


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_emulated_fwd_many_sequences(emu, layout):
    """300 sequences of 0-4 tokens (more than a block has threads), with pads: the searches of phase 0
    over a long query_start_loc, many heads per tile."""
    num_seqs = 300
    g = torch.Generator().manual_seed(num_seqs)
    lens = torch.randint(0, 5, (num_seqs,), generator=g).tolist()
    initial = (torch.rand(num_seqs, generator=g) < 0.5).tolist()
    case = make_fwd_case(lens, dim=16, width=4, layout=layout, initial=initial, pads=(0, 7, num_seqs - 1), seed=5)
    run_and_check(emu, case, "default", f"{num_seqs} sequences {layout}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided_weight"])
@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_emulated_fwd_several_channel_groups(emu, layout, strided, kernel):
    """dim 264: several channel groups (the last partial); taps and bias by vector or scalar loads."""
    case = make_fwd_case([70, 3, 1, 60], dim=264, width=4, dtype=torch.bfloat16, layout=layout,
                         initial=[True, False, True, True], pads=(2,), seed=13)  # fmt: skip
    if strided:
        case = strided_weight_offset_bias(case)
    run_and_check(emu, case, kernel, f"emulated dim 264 {layout} strided={strided}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dt", ["bf16", "fp32"])
def test_emulated_fwd_channel_first_unaligned_rows(emu, dt, kernel):
    """Channel-first x and out starting one element off 16 bytes, 131 tokens a row (each row at
    another offset from 16 bytes): aligned 16-byte vectors, no 16-byte access off its boundary."""
    case = make_fwd_case([60, 1, 2, 68], dim=40, width=4, dtype=DTYPES[dt], layout="channel_first",
                         initial=[True, False, True, True], seed=17)  # fmt: skip
    case.x = shifted_by_one_element(case.x)
    run_and_check(emu, case, kernel, f"emulated unaligned rows {dt}", lambda: shifted_by_one_element(case.new_out()))


@pytest.mark.parametrize("layout,variant", [("channel_last", "cl_run=8"), ("channel_first", "cf_rows=8"),
                                            ("channel_last", "walk=1")]
                         + [("channel_first", v) for v in CF_VARIANTS])  # fmt: skip
def test_emulated_fwd_tuning_variant(emu, layout, variant):
    """The benchmark's tuning variants (8 tokens per thread channel-last; channel-first 8 or 2 rows,
    the grouped phase 0 with LDS taps): more tokens than one tile, sequences across tiles, dim 264
    (a partial channel group)."""
    case = make_fwd_case([0, 1, 2, 150, 3, 70, 1, 17, 40], dim=264, width=4, layout=layout,
                         initial=[True, False, True, True, False, True, True, False, True], pads=(4,), extra_tokens=3,
                         seed=21)  # fmt: skip
    before = case.conv_states.clone()
    ref = case.reference()
    out = case.new_out()
    emu_fwd(emu, case, out, tuned=TUNED[variant])
    assert_fwd_matches(case, out, before, ref, f"emulated tuning variant {layout} {variant}")


@pytest.mark.parametrize("variant", CF_VARIANTS)
@pytest.mark.parametrize("dt", ["bf16", "fp32", "fp16"])
def test_emulated_fwd_channel_first_variants_short_sequences(emu, dt, variant):
    """The channel-first variants' phase 0 (cf_fast=0: one search per token; cf_rows=2 with the default
    cf_fast=1: one search per 8 tokens, then a walk over every
    sequence boundary among them): 90 sequences of 0-3 tokens (several per group, zero-length ones,
    pads), tokens past the last sequence, x and out one element off 16 bytes, no initial state for
    some; fp32's last group of a tile runs into the next tile (a head there is the next block's)."""
    g = torch.Generator().manual_seed(5)
    lens = torch.randint(0, 4, (90,), generator=g).tolist() + [37, 0, 1]
    initial = (torch.rand(len(lens), generator=g) < 0.7).tolist()
    case = make_fwd_case(lens, dim=40, width=4, dtype=DTYPES[dt], layout="channel_first", initial=initial,
                         pads=(5, 77, 90), extra_tokens=5, seed=6)  # fmt: skip
    case.x = shifted_by_one_element(case.x)
    before = case.conv_states.clone()
    ref = case.reference()
    out = shifted_by_one_element(case.new_out())
    emu_fwd(emu, case, out, tuned=TUNED[variant])
    assert_fwd_matches(case, out, before, ref, f"emulated {variant} {dt} short sequences")


@pytest.mark.parametrize("variant", CF_VARIANTS)
@pytest.mark.parametrize("dt", ["bf16", "fp32"])
def test_emulated_fwd_channel_first_variants_long(emu, dt, variant):
    """The channel-first variants on long sequences across several tiles, a sequence starting on a
    tile boundary and one starting just before it, dim 264 with a strided weight and offset bias."""
    vec = 16 // DTYPES[dt].itemsize
    tile = 32 * vec
    lens = [tile - 2, 2, tile + 1, 1, 2 * tile - 1, 0, 3]  # starts at 0, tile - 2, tile, 2 tile + 1, ...
    case = make_fwd_case(lens, dim=264, width=4, dtype=DTYPES[dt], layout="channel_first",
                         initial=[True, False, True, True, False, True, True], pads=(3,), extra_tokens=1, seed=8)  # fmt: skip
    case = strided_weight_offset_bias(case)
    before = case.conv_states.clone()
    ref = case.reference()
    out = case.new_out()
    emu_fwd(emu, case, out, tuned=TUNED[variant])
    assert_fwd_matches(case, out, before, ref, f"emulated {variant} {dt} long")


@pytest.mark.parametrize("kernel", KERNELS)
def test_emulated_fwd_channel_first_out_offset_differs(emu, kernel):
    """Channel-first x one element off 16 bytes, out on 16 bytes: x read by aligned vectors, out
    written element by element (its rows' offsets differ from x's)."""
    case = make_fwd_case([60, 1, 2, 68], dim=40, width=4, layout="channel_first", initial=[True, False, True, True],
                         seed=19)  # fmt: skip
    case.x = shifted_by_one_element(case.x)
    before = case.conv_states.clone()
    ref = case.reference()
    out = case.new_out()
    assert out.data_ptr() % 16 == 0 and case.x.data_ptr() % 16 != 0
    emu_fwd(emu, case, out)
    assert_fwd_matches(case, out, before, ref, "emulated out offset differs")
    if kernel != "default":
        case.conv_states.copy_(before)
        walk_out = case.new_out()
        emu_fwd(emu, case, walk_out, tuned=TUNED[kernel])
        assert_fwd_matches(case, walk_out, before, ref, f"emulated out offset differs {kernel}")
        assert torch.equal(bits(walk_out), bits(out))


@pytest.mark.parametrize("seqlen", [None, 3])
@pytest.mark.parametrize("dt", ["bf16", "fp32"])
def test_emulated_update(emu, dt, seqlen):
    case = make_update_case(5, seqlen=seqlen, dim=300, width=4, dtype=DTYPES[dt], pads=(1,))
    before = case.conv_state.clone()
    ref_out, ref_states = case.reference()
    out = torch.full_like(case.x, float("nan"))
    c = validate_update(*case.op_args(out))
    d = c.dims
    xs = c.x.stride() + ((1,) if c.x.dim() == 2 else ())
    os_ = out.stride() + ((1,) if out.dim() == 2 else ())
    emu.emu_update(_DT[c.x.dtype], d.width, d.activation == "silu", _p(out), _p(c.x), _p(c.weight), _p(c.bias),
                   _p(c.conv_state), _p(c.conv_state_indices), d.batch, d.dim, d.seqlen, c.pad_slot_id,
                   d.num_cache_lines, *xs, *os_, *c.weight.stride(), *c.conv_state.stride())  # fmt: skip
    assert emu.emu_misaligned_and_reset() == 0
    written = ~torch.isnan(ref_out)
    tol = 1.6e-2 if dt == "bf16" else 1e-5
    assert torch.isnan(out.double()[~written]).all()
    torch.testing.assert_close(out.double()[written], ref_out[written], atol=tol, rtol=tol)
    assert_states(case.conv_state, before, ref_states, "emulated update")


# ---- address checks: the emulator under AddressSanitizer (emulate_asan.py) ----
ASAN_FULL_ENV = "AITER_SWA_EMU_ASAN_FULL"


@pytest.fixture(scope="module")
def asan_emu(tmp_path_factory):
    sys.path.insert(0, str(HERE))
    import emulate_asan

    cxx = emulate_asan.compiler()
    if cxx is None:
        pytest.skip("no host C++ compiler with an ASan runtime (g++, clang++)")
    return emulate_asan.build(cxx, tmp_path_factory.mktemp("conv1d_asan"))


def _run_asan(asan_emu, lens, dim, layout, tuned):
    so, runtime = asan_emu
    env = dict(os.environ, LD_PRELOAD=runtime, ASAN_OPTIONS="detect_leaks=0", AITER_SWA_EMU_ASAN_PRELOADED="1",
               CUDA_VISIBLE_DEVICES="")  # the emulator runs on the CPU; no CUDA driver under ASan
    r = subprocess.run([sys.executable, str(HERE / "emulate_asan.py"), "--lens", ",".join(map(str, lens)), "--dim",
                        str(dim), "--layout", layout, "--tuned", tuned, "--so", str(so)],
                       capture_output=True, text=True, env=env)  # fmt: skip
    assert r.returncode == 0, f"ASan or the comparison failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    cases = len(layout.split(",")) * len(tuned.split(","))
    assert r.stdout.count(": OK") == cases, r.stdout


def test_emulated_fwd_under_asan(asan_emu):
    """Every access of the forward kernel inside the tensors it was given (ASan redzones around each,
    inputs as the benchmark makes them: vLLM's state layout, odd channel-first rows), both layouts,
    default and tuning variant, at a small shape with the benchmark's mix of long and one-token
    sequences, several channel groups (the last partial) and a partial last token tile."""
    _run_asan(asan_emu, [300, 40, 1, 2, 1, 1], 264, "channel_first,channel_last", "0,1")


def test_emulated_fwd_channel_first_variants_under_asan(asan_emu):
    """As above, the channel-first variants cf_rows=2, cf_fast=0 and both (emulate_asan.py --tuned 2,3,4)."""
    _run_asan(asan_emu, [300, 40, 1, 2, 1, 1], 264, "channel_first", "2,3,4")


def test_emulated_fwd_walk_under_asan(asan_emu):
    """As above, the walking kernel (walk=1, emulate_asan.py --tuned 5) in both layouts: the channel-first
    rows' first and last vectors, the halo loads at the segment start, the channel-last groups past
    the last token; 4400 tokens, so channel-first rows cross a 4096-token segment."""
    _run_asan(asan_emu, [300, 40, 1, 2, 1, 1], 264, "channel_first,channel_last", "5")
    _run_asan(asan_emu, [4096, 300, 1, 3], 16, "channel_first,channel_last", "5")


@pytest.mark.skipif(not os.environ.get(ASAN_FULL_ENV),
                    reason=f"the benchmark's long prefill under ASan takes about 4 minutes per case: set {ASAN_FULL_ENV}=1")  # fmt: skip
@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
def test_emulated_fwd_under_asan_at_the_benchmark_shape(asan_emu, layout):
    """bench_causal_conv1d.py's long prefill exactly: lens 4096, 2048, 1024, 1, 1, 1, dim 8192."""
    _run_asan(asan_emu, [4096, 2048, 1024, 1, 1, 1], 8192, layout, "0,1")


@pytest.mark.parametrize("layout", ["channel_first", "channel_last"])
@pytest.mark.parametrize("dt", ["bf16", "fp32"])
def test_emulated_fwd_walk_across_segments(emu, layout, dt):
    """walk=1 over several workgroup segments (channel-first: 4096 tokens, sequences across segment and
    chunk boundaries, one starting on the second segment's first token, one just before it, x and out
    one element off 16 bytes; channel-last: 128-token workgroups of 16-token groups), dim 264 with a
    strided weight and offset bias: the reference, and bit for bit the default kernel."""
    lens = [4094, 2, 1, 700, 0, 3, 301]  # starts 0, 4094, 4096, 4097, 4797, 4797, 4800
    case = make_fwd_case(lens, dim=264 if layout == "channel_last" else 24, width=4, dtype=DTYPES[dt], layout=layout,
                         initial=[True, False, True, True, False, True, False], pads=(5,), extra_tokens=3, seed=23)  # fmt: skip
    case = strided_weight_offset_bias(case)
    make_out = case.new_out
    if layout == "channel_first":
        case.x = shifted_by_one_element(case.x)
        make_out = lambda: shifted_by_one_element(case.new_out())  # noqa: E731
    run_and_check(emu, case, "walk=1", f"walk across segments {layout} {dt}", make_out)
