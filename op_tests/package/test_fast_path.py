"""The fast path's C++ kernel (aiter_swa/_fast_path.py, csrc/templates/fast_path.cpp.jinja) on the CPU.

The same boxed kernel and registration code (``_fast_path.install``) the GPU ops use for the CUDA
key, here for the CPU key of a test-only op ``aiter_swa_fptest::probe``, whose slow twin (a Python
kernel) checks an alignment, counts its calls and publishes the extension's test launcher: a C
function whose state (a ctypes array) records the per-call values it was given.

The extension is built on first use (about half a minute on this machine; then from the cache).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import struct
import subprocess
import sys
import weakref

import pytest
import torch

from aiter_swa import _fast_path

NS = "aiter_swa_fptest"
QUALNAME, SLOW = f"{NS}::probe", f"{NS}::_probe_slow"
SCHEMA = "(Tensor(a!) out, Tensor x, Tensor? opt, float f, int n, str s, bool b) -> ()"
#: The test launch contract's per-call values: out, x (16-byte aligned), opt (or 0), f, the stream, a constant.
ALIGN, CONSTANT = 16, 0xC0FFEE


class Launcher:
    """A prepared launcher for the test: ``raw()`` gives the extension's test launcher and this
    object's state (uint64 ``[n, fail, calls, values...]``), alive as long as the object."""

    def __init__(self, n: int = 6):
        self.state = (ctypes.c_uint64 * (3 + n))(n)
        self.ext = _fast_path.extension()

    def raw(self):
        return self.ext.test_launcher(), ctypes.addressof(self.state)

    @property
    def calls(self) -> int:
        return self.state[2]

    @property
    def values(self) -> list:
        return list(self.state[3 : 3 + self.state[0]])


SLOTS = ((_fast_path.TENSOR, 0, 1), (_fast_path.TENSOR, 1, ALIGN), (_fast_path.OPTIONAL_TENSOR, 2, 1),
         (_fast_path.DOUBLE, 3, 0), (_fast_path.STREAM, 0, 0), (_fast_path.CONSTANT, 0, CONSTANT))  # fmt: skip


class Probe:
    """The slow twin's state: its calls and the launchers it published (one per call that launched)."""

    def __init__(self):
        self.slow_calls = 0
        self.launchers = []

    def slow(self, out, x, opt=None, f=0.0, n=0, s="", b=False):
        self.slow_calls += 1
        if x.data_ptr() % ALIGN:
            raise ValueError(f"x: expected a {ALIGN}-byte aligned pointer, got offset {x.data_ptr() % ALIGN}")
        publish_test_launcher(self.launchers)


def publish_test_launcher(store: list) -> None:
    """A slow twin's publish: a new test launcher (appended to ``store``) for the call in flight."""
    launcher = Launcher(len(SLOTS))
    store.append(launcher)
    _fast_path.publish(launcher, SLOTS, "cpu", 0)


@contextlib.contextmanager
def fast_op(name: str, slow, limit: int = _fast_path.ENTRY_LIMIT, per_call_ints: tuple = ()):
    """A test-only op ``NS::<name>`` served on the CPU key by the fast kernel, whose misses run
    ``slow`` (the kernel of its twin ``NS::_<name>_slow``); yields the op."""
    lib = torch.library.Library(NS, "FRAGMENT")
    lib.define(name + SCHEMA)
    lib.define(f"_{name}_slow" + SCHEMA)
    lib.impl(f"_{name}_slow", slow, "CPU")
    try:
        assert _fast_path.install(f"{NS}::{name}", f"{NS}::_{name}_slow", "CPU", limit, per_call_ints)
        yield getattr(torch.ops.aiter_swa_fptest, name)
    finally:
        lib._destroy()


@pytest.fixture(scope="module")
def probe():
    ext = _fast_path.extension()
    if ext is None:
        pytest.fail(f"the fast path did not build: {_fast_path.failure()}")
    state = Probe()
    with fast_op("probe", state.slow):
        yield state
        ext.clear(QUALNAME)


@pytest.fixture
def fresh(probe):
    _fast_path.extension().clear(QUALNAME)
    probe.launchers.clear()
    probe.slow_calls = 0
    return probe


def aligned(n: int = 64, offset: int = 0, dtype=torch.float32) -> torch.Tensor:
    """A tensor whose data pointer is ``offset`` bytes past a 64-byte boundary."""
    raw = torch.empty(n * 4 + 128, dtype=torch.uint8)
    start = (-raw.data_ptr()) % 64 + offset
    return raw[start : start + n * 4].view(dtype)


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def call(out, x, opt=None, f=0.5, n=3, s="HND", b=True):
    torch.ops.aiter_swa_fptest.probe(out, x, opt, f, n, s, b)


def test_hit_passes_the_per_call_values_in_contract_order(fresh):
    out, x, opt = aligned(), aligned(), aligned(8)
    call(out, x, opt)  # miss: the slow twin publishes
    assert fresh.slow_calls == 1 and len(fresh.launchers) == 1
    launcher = fresh.launchers[0]
    assert launcher.calls == 0
    out2, x2, opt2 = aligned(), aligned(), aligned(8)  # same metadata, other pointers and scale
    call(out2, x2, opt2, f=0.5)
    assert fresh.slow_calls == 1, "a hit must not run the slow twin"
    assert launcher.calls == 1
    assert launcher.values == [out2.data_ptr(), x2.data_ptr(), opt2.data_ptr(), bits(0.5), 0, CONSTANT]
    call(out2, x2, opt2)
    assert _fast_path.stats(QUALNAME)["hits"] == 2


def test_optional_none_is_zero(fresh):
    out, x = aligned(), aligned()
    call(out, x, None)
    call(out, x, None)
    assert fresh.slow_calls == 1
    assert fresh.launchers[0].values[2] == 0


@pytest.mark.parametrize("change", ["dtype", "shape", "stride", "dim", "none", "f", "n", "s", "b"])
def test_every_metadata_change_is_a_miss(fresh, change):
    out, x, opt = aligned(), aligned(), aligned(8)
    call(out, x, opt)
    kwargs = dict(out=out, x=x, opt=opt, f=0.5, n=3, s="HND", b=True)
    if change == "dtype":
        kwargs["x"] = aligned(dtype=torch.int32)
    elif change == "shape":
        kwargs["x"] = aligned(32)
    elif change == "stride":
        kwargs["x"] = aligned(128)[::2]
        assert kwargs["x"].data_ptr() % ALIGN == 0
    elif change == "dim":
        kwargs["x"] = aligned().view(8, 8)
    elif change == "none":
        kwargs["opt"] = None
    elif change == "f":
        kwargs["f"] = 0.25
    elif change == "n":
        kwargs["n"] = 4
    elif change == "s":
        kwargs["s"] = "NHD"
    else:
        kwargs["b"] = False
    call(**kwargs)
    assert fresh.slow_calls == 2, f"changing {change} must take the slow twin"
    assert fresh.launchers[0].calls == 0
    call(**kwargs)  # now published: a hit of the second entry
    assert fresh.slow_calls == 2 and fresh.launchers[1].calls == 1


def test_misaligned_pointer_takes_the_slow_twin_and_its_error(fresh):
    out, x = aligned(), aligned()
    call(out, x)
    bad = aligned(offset=4)
    with pytest.raises(ValueError, match="x: expected a 16-byte aligned pointer, got offset 4"):
        call(out, bad)
    assert fresh.slow_calls == 2
    assert fresh.launchers[0].calls == 0
    assert _fast_path.stats(QUALNAME)["misaligned"] == 1
    call(out, aligned())  # aligned again: a hit
    assert fresh.launchers[0].calls == 1


def test_launcher_error_is_a_runtime_error_naming_the_op(fresh):
    out, x = aligned(), aligned()
    call(out, x)
    fresh.launchers[0].state[1] = 1  # ask the test launcher to fail
    with pytest.raises(RuntimeError, match=r"aiter_swa_fptest::probe: test launcher: failure requested"):
        call(out, x)
    assert fresh.slow_calls == 1


def test_entry_outlives_python_references(fresh):
    out, x = aligned(), aligned()
    call(out, x)
    launcher = fresh.launchers.pop()
    ref = weakref.ref(launcher)
    state_address = ctypes.addressof(launcher.state)
    del launcher
    gc.collect()
    assert ref() is not None, "the entry must keep its launcher alive"
    call(out, x)
    assert fresh.slow_calls == 1
    state = (ctypes.c_uint64 * 9).from_address(state_address)
    assert state[2] == 1 and state[3] == out.data_ptr()
    _fast_path.extension().clear(QUALNAME)
    gc.collect()
    assert ref() is None, "clear() must release the launcher"
    call(out, x)  # a miss again
    assert fresh.slow_calls == 2


def test_publish_without_a_call_in_flight_files_nothing(fresh):
    publish_test_launcher([])
    assert _fast_path.stats(QUALNAME)["entries"] == 0
    torch.ops.aiter_swa_fptest._probe_slow(aligned(), aligned(), None, 0.5, 3, "HND", True)  # the twin directly
    assert _fast_path.stats(QUALNAME)["entries"] == 0


def test_bad_slots_are_rejected(fresh):
    launcher = Launcher(1)
    ext = _fast_path.extension()

    def bad_slow(*args):
        ext.publish(*launcher.raw(), launcher, ((_fast_path.TENSOR, 99, 1),), "cpu", 0)

    with fast_op("probe_bad", bad_slow) as probe_bad:
        with pytest.raises(ValueError, match="argument index 99 out of range"):
            probe_bad(aligned(), aligned(), None, 0.5, 3, "HND", True)
        with pytest.raises(ValueError, match="already registered"):
            _fast_path.install(f"{NS}::probe_bad", f"{NS}::_probe_bad_slow", "CPU")


def test_suspend_sends_every_call_to_the_slow_twin(fresh):
    out, x = aligned(), aligned()
    call(out, x)
    _fast_path.suspend("test", True)
    try:
        call(out, x)
        assert fresh.slow_calls == 2 and fresh.launchers[0].calls == 0
    finally:
        _fast_path.suspend("test", False)
    call(out, x)
    assert fresh.launchers[0].calls == 1


def test_debug_checks_suspend_the_fast_path(fresh):
    from aiter_swa.ops.pa_v1 import debug_checks

    out, x = aligned(), aligned()
    call(out, x)
    saved = debug_checks.ENABLED
    debug_checks.ENABLED = True
    try:
        assert not _fast_path.extension().enabled()
        call(out, x)
        assert fresh.launchers[0].calls == 0
    finally:
        debug_checks.ENABLED = saved
    assert _fast_path.extension().enabled() is (not saved)


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})  # fmt: skip


#: define_op with the fast path, in a test namespace, as a GPU torch would (``wanted`` patched): which
#: kernel serves the CUDA key of the op, and whether the slow twin exists.
_DEFINE = """
import logging, torch
logging.basicConfig(level=logging.WARNING)
from aiter_swa import _fast_path, _library
_fast_path.wanted = lambda: _fast_path.env_enabled()
_library.NAMESPACE = "aiter_swa_fptest_def"
_library.define_op("op", "(Tensor(a!) out) -> ()", cpu=lambda *a: None, cuda=lambda *a: None,
                   fake=lambda *a: None)
_library.define_op("fast", "(Tensor(a!) out) -> ()", cpu=lambda *a: None, cuda=lambda *a: None,
                   fake=lambda *a: None, fast_path=True)
print("stats", _fast_path.stats("aiter_swa_fptest_def::fast"))
print("twin", hasattr(torch.ops.aiter_swa_fptest_def, "_fast_slow"))
"""


def test_define_op_installs_the_fast_kernel(probe):
    r = _run(_DEFINE)
    assert r.returncode == 0, r.stderr
    assert "twin True" in r.stdout and "'entries': 0" in r.stdout, r.stdout + r.stderr


def test_env_var_turns_it_off():
    r = _run(_DEFINE, AITER_SWA_FAST_PATH="0")
    assert r.returncode == 0, r.stderr
    assert "stats None" in r.stdout and "twin False" in r.stdout, r.stdout + r.stderr


def test_failed_build_falls_back_and_logs_once(tmp_path):
    """No fast path in the (empty) cache and the JIT disabled: a warning, and the op keeps its Python kernel."""
    r = _run(_DEFINE + "print('failure', _fast_path.failure())", AITER_SWA_DISABLE_JIT="1",
             AITER_SWA_CACHE_DIR=str(tmp_path / "cache"), AITER_SWA_PREBUILT_DIR="")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "stats None" in r.stdout and "twin False" in r.stdout, r.stdout + r.stderr
    assert "failure JitDisabledError" in r.stdout
    assert r.stderr.count("the fast path is not available") == 1, r.stderr


def test_pa_v1_slots_follow_the_launch_contract():
    """pa_v1's fast-path slots: one per per-call parameter of its launch contract, each read from the
    op argument gpu.py passes for it, with the alignment gpu.run checks."""
    from aiter_swa.ops.pa_v1 import gpu
    from aiter_swa.ops.pa_v1.call import ARG_INDEX
    from aiter_swa.ops.pa_v1.spec import LAUNCH

    for fp8, kv_align in ((False, 16), (True, 8)):
        slots = dict(zip(LAUNCH.call_names, gpu._fast_slots(kv_align, fp8, 777)))
        assert slots["max_context_len"] == (_fast_path.BOUNDED_INT, ARG_INDEX["max_context_len"], 777)
        assert list(slots) == list(LAUNCH.call_names)
        assert slots["stream"][0] == _fast_path.STREAM
        assert slots["scale"] == (_fast_path.DOUBLE, ARG_INDEX["scale"], 0)
        assert slots["soft_cap"] == (_fast_path.DOUBLE, ARG_INDEX["logits_soft_cap"], 0)
        assert slots["query"] == (_fast_path.TENSOR, ARG_INDEX["query"], 16)
        assert slots["workspace"] == (_fast_path.TENSOR, ARG_INDEX["workspace_buffer"], 16)
        assert slots["key_cache"] == (_fast_path.TENSOR, ARG_INDEX["key_cache"], kv_align)
        assert slots["sinks"] == (_fast_path.OPTIONAL_TENSOR, ARG_INDEX["sinks"], 1)
        assert slots["k_scale"] == ((_fast_path.TENSOR, ARG_INDEX["k_scale"], 1) if fp8 else (_fast_path.CONSTANT, 0, 0))


def test_full_map_is_cleared(probe):
    """At the entry limit the map starts again; the launchers of cleared entries are released."""
    with fast_op("probe_small", probe.slow, limit=2) as probe_small:
        probe.launchers.clear()
        out, x = aligned(), aligned()
        for n in (1, 2, 3):  # three keys: the third clears the two before it
            probe_small(out, x, None, 0.5, n, "HND", True)
        stats = _fast_path.stats(f"{NS}::probe_small")
        assert stats["published"] == 3 and stats["cleared"] == 1 and stats["entries"] == 1, stats
        first = weakref.ref(probe.launchers[0])
        probe.launchers.pop(0)
        gc.collect()
        assert first() is None, "a cleared entry must release its launcher"
        calls = probe.slow_calls
        probe_small(out, x, None, 0.5, 3, "HND", True)  # kept: a hit
        probe_small(out, x, None, 0.5, 1, "HND", True)  # cleared: a miss
        assert probe.slow_calls == calls + 1


def test_nested_fast_path_call_keeps_the_outer_key(fresh):
    """A slow twin that calls another fast-path op (a miss, then a hit of its own) still files its
    launch under its own call's key."""
    outer_launchers = []

    def outer_slow(out, x, opt=None, f=0.0, n=0, s="", b=False):
        call(out, x, opt, 0.5, n + 100, s, b)  # the inner op: its own key
        publish_test_launcher(outer_launchers)

    with fast_op("probe_outer", outer_slow) as probe_outer:
        out, x = aligned(), aligned()
        for _ in range(2):  # first: the outer misses, its twin runs the inner (a miss, then a hit)
            probe_outer(out, x, None, 0.5, 1, "HND", True)
        assert len(outer_launchers) == 1, "the second outer call must be a hit"
        assert outer_launchers[0].calls == 1 and outer_launchers[0].values[1] == x.data_ptr()
        assert fresh.slow_calls == 1 and _fast_path.stats(QUALNAME)["entries"] == 1


#: The per-call int test: ``n`` (argument 4) is left out of the key and read per call, admitted in
#: ``[0, N_BOUND]`` (as pa_v1's max_context_len up to what its metadata admits).
N_BOUND = 1000
BOUNDED_SLOTS = SLOTS[:5] + ((_fast_path.BOUNDED_INT, 4, N_BOUND),)


class BoundedProbe(Probe):
    """A slow twin whose ``n`` must be in ``[0, N_BOUND]`` (else the ValueError, ``out`` untouched);
    its launches read ``n`` per call."""

    def slow(self, out, x, opt=None, f=0.0, n=0, s="", b=False):
        self.slow_calls += 1
        if not 0 <= n <= N_BOUND:
            raise ValueError(f"n: expected an int in [0, {N_BOUND}], got {n}")
        out.fill_(float(n))  # its "launch"
        launcher = Launcher(len(BOUNDED_SLOTS))
        self.launchers.append(launcher)
        _fast_path.publish(launcher, BOUNDED_SLOTS, "cpu", 0)


def test_per_call_int_stays_on_the_fast_path():
    """A loop whose per-call int grows every step (pa_v1's max_context_len in a decode loop): one
    miss, then every call a hit that passes the value; beyond its bounds the slow twin raises."""
    state = BoundedProbe()
    qual = f"{NS}::probe_len"
    with fast_op("probe_len", state.slow, per_call_ints=("n",)) as probe_len:
        out, x = aligned(), aligned()
        for n in range(0, N_BOUND + 1, 37):
            probe_len(out, x, None, 0.5, n, "HND", True)
        probe_len(out, x, None, 0.5, N_BOUND, "HND", True)
        stats = _fast_path.stats(qual)
        assert state.slow_calls == 1 and stats["misses"] == 1, stats
        assert stats["hits"] == len(range(0, N_BOUND + 1, 37)) and stats["entries"] == 1, stats
        assert state.launchers[0].values[5] == N_BOUND, "the per-call int is passed in its slot"
        out.fill_(-1.0)
        for bad in (N_BOUND + 1, -1, 2**62):  # outside the bounds: the slow twin's error, out untouched
            with pytest.raises(ValueError, match=rf"n: expected an int in \[0, {N_BOUND}\], got {bad}"):
                probe_len(out, x, None, 0.5, bad, "HND", True)
            assert bool((out == -1.0).all()), "out was written for a rejected call"
        stats = _fast_path.stats(qual)
        assert stats["out_of_range"] == 3 and state.slow_calls == 4 and stats["hits"] == len(range(0, N_BOUND + 1, 37))
        probe_len(out, x, None, 0.25, 5, "HND", True)  # another float: a new key (the int is still not in it)
        probe_len(out, x, None, 0.25, 6, "HND", True)
        assert state.slow_calls == 5 and state.launchers[1].values[5] == 6
        _fast_path.extension().clear(qual)


def test_per_call_ints_must_be_int_arguments():
    def slow(*args):
        pass

    with pytest.raises(ValueError, match="per-call argument s is a str, not an int"):
        with fast_op("probe_str", slow, per_call_ints=("s",)):
            pass
    with pytest.raises(ValueError, match="no argument nope"):
        with fast_op("probe_nope", slow, per_call_ints=("nope",)):
            pass


def test_bounded_slot_needs_a_per_call_int(fresh):
    """A launch may read a per-call value only from an argument that is not in the key."""
    launcher = Launcher(1)
    ext = _fast_path.extension()

    def bad_slow(*args):
        ext.publish(*launcher.raw(), launcher, ((_fast_path.BOUNDED_INT, 4, 10),), "cpu", 0)

    with fast_op("probe_bad_bound", bad_slow) as probe_bad:
        with pytest.raises(ValueError, match="argument 4 is not a per-call int of the op"):
            probe_bad(aligned(), aligned(), None, 0.5, 3, "HND", True)
