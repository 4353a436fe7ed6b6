#!/usr/bin/env python3
"""Run AMD aiter's own ``op_tests/test_pa_v1.py`` against aiter_swa's ``paged_attention_v1``.

aiter's test file is used unchanged; it is not part of this repository. Place it at
``.peers/aiter/test_pa_v1.py`` (git-ignored) with ``op_tests/aiter_suite/fetch_aiter_test.sh``.
The test imports ``aiter.dtypes``, ``aiter.pertoken_quant`` and ``aiter.test_common``
(``checkAllclose``, ``perftest``, ``tensor_dump``, ``tensor_load``) and calls the op as
``torch.ops.aiter.paged_attention_v1(...)``. This runner writes small stand-ins for those helpers
(our own code) to ``.peers/aiter_standins/aiter/`` and puts that folder first on ``sys.path``, so
``import aiter`` in the test finds them, never a real ``aiter`` distribution. The test module's
``torch.ops.aiter.paged_attention_v1`` is routed to the op under test, chosen in one place
(``_OP_SWITCH`` below): ``torch.ops.aiter_swa.paged_attention_v1`` when that exists, else
``torch.ops.aiter.paged_attention_v1``.

The test's functions are called directly over the grids of their own ``@pytest.mark.parametrize``
marks (optionally filtered and sampled), one case at a time, each failure caught. Per test function
it counts: passed; failed (the test's accuracy assertion); error (any other exception);
unsupported (needs a feature aiter_swa does not have yet: the op raised NotImplementedError, or a
ValueError/TypeError naming an unsupported block size / KV-cache dtype); skipped (the test itself
called ``pytest.skip``, e.g. quantised caches with the Shomy variant).

    python op_tests/aiter_suite/run_aiter_pa_v1.py --log gpu_logs/aiter_pa_v1.log --max-cases 200
    python op_tests/aiter_suite/run_aiter_pa_v1.py --device cpu --contexts 26,128 --max-cases 12 --log /tmp/dry.log

Exit status: 0 when no case failed or errored, 1 otherwise, 2 on a setup problem.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import enum
import importlib
import importlib.util
import io
import itertools
import json
import os
import random
import re
import sys
import textwrap
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEST_FILE = REPO_ROOT / ".peers" / "aiter" / "test_pa_v1.py"
DEFAULT_STANDINS = REPO_ROOT / ".peers" / "aiter_standins"
TEST_FUNCTIONS = ("test_paged_attention", "test_paged_attention_sliding_window")

# --------------------------------------------------------------------------------------------
# Stand-in sources, written to <standins>/aiter/ at every run. Our own minimal code: just what
# test_pa_v1.py uses, with the contracts it relies on (see each docstring).
# --------------------------------------------------------------------------------------------

# The one switch between the op's new and old names. Everything (the stand-in aiter package,
# the test module's torch.ops.aiter, the runner's report) goes through resolve().
_OP_SWITCH = '''\
"""Which operator the stand-ins forward to (the one place that decides)."""
import torch

import aiter_swa  # noqa: F401  (registers the op)


def resolve():
    """Return (op, qualified name): aiter_swa's new name when registered, else the old one."""
    if hasattr(torch.ops.aiter_swa, "paged_attention_v1"):
        return torch.ops.aiter_swa.paged_attention_v1, "aiter_swa::paged_attention_v1"
    return torch.ops.aiter.paged_attention_v1, "aiter::paged_attention_v1"
'''

_AITER_INIT = '''\
"""Stand-in for AMD aiter, for running aiter's op_tests/test_pa_v1.py against aiter_swa.

Written by op_tests/aiter_suite/run_aiter_pa_v1.py; not AMD's code. Provides ``dtypes``,
``pertoken_quant``, ``test_common`` and ``paged_attention_v1`` (forwarding to the op under test).
"""
import torch

from . import dtypes  # noqa: F401

STANDIN = True


def paged_attention_v1(out, *args, **kwargs):
    """Forward to the op under test (see aiter._op_switch); return ``out`` as aiter's op does."""
    from ._op_switch import resolve

    op, _ = resolve()
    op(out, *args, **kwargs)
    return out


def pertoken_quant(x, scale=None, x_scale=None, scale_dtype=torch.float32,
                   quant_dtype=torch.int8, dtypeMax=None):
    """Symmetric per-token (last dim) quantisation: returns (quantised x, scale [..., 1])."""
    xf = x.float()
    if x_scale is not None:
        xf = xf * x_scale
    if dtypeMax is None:
        info = torch.finfo(quant_dtype) if quant_dtype.is_floating_point else torch.iinfo(quant_dtype)
        dtypeMax = float(info.max)
    if scale is None:
        scale = xf.abs().amax(dim=-1, keepdim=True) / dtypeMax
        scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    q = (xf / scale).clamp(-dtypeMax, dtypeMax)
    if not quant_dtype.is_floating_point:
        q = q.round()
    return q.to(quant_dtype), scale.to(scale_dtype)
'''

_AITER_DTYPES = '''\
"""Stand-in for aiter.dtypes: short names of torch dtypes."""
import torch

fp16 = torch.float16
bf16 = torch.bfloat16
fp32 = torch.float32
# aiter picks the fp8 flavour by GPU arch (fnuz on gfx94x); the test only names it in skipped cases.
fp8 = torch.float8_e4m3fnuz if getattr(torch.version, "hip", None) else torch.float8_e4m3fn
i8 = torch.int8
u8 = torch.uint8
i16 = torch.int16
i32 = torch.int32
i64 = torch.int64
u32 = torch.uint32
d_dtypes = {n: globals()[n] for n in ("fp16", "bf16", "fp32", "fp8", "i8", "u8", "i16", "i32", "i64", "u32")}
'''

_AITER_TEST_COMMON = '''\
"""Stand-in for aiter.test_common: checkAllclose, perftest, tensor_dump, tensor_load."""
import os
import time

import torch

#: Set by checkAllclose: {"msg", "ratio", "max_delta", "numel"} of the last comparison.
LAST = {}


def checkAllclose(a, b, rtol=1e-2, atol=1e-2, tol_err_ratio=0.05, msg="", printNum=8,
                  printLog=True, max_abs_delta=None, catastrophic_check=False):
    """Return 0 when torch.isclose(a, b) holds everywhere, else the fraction of elements that differ."""
    close = torch.isclose(a, b, rtol=rtol, atol=atol)
    bad = int((~close).sum().item())
    ratio = 0 if bad == 0 else bad / a.numel()
    diff = (a.float() - b.float()).abs()
    max_delta = float(diff.nan_to_num(float("inf")).max().item()) if a.numel() else 0.0
    LAST.clear()
    LAST.update(msg=msg, ratio=ratio, max_delta=max_delta, numel=a.numel())
    if printLog:
        state = "passed" if bad == 0 else ("failed" if ratio > tol_err_ratio else "warning")
        print(f"{msg}[checkAllclose atol={atol} rtol={rtol} {state}] "
              f"mismatch {bad}/{a.numel()} ({ratio:.2%}), max abs delta {max_delta:.4g}")
    return ratio


def perftest(num_iters=101, num_warmup=2, **_ignored):
    """Decorator: call the function AITER_SUITE_PERF_ITERS times (default 1); return (result, avg_us)."""
    iters = max(1, int(os.environ.get("AITER_SUITE_PERF_ITERS", "1")))

    def decorator(func):
        def wrapper(*args, **kwargs):
            cuda = torch.cuda.is_available()
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(iters):
                data = func(*args, **kwargs)
            if cuda:
                torch.cuda.synchronize()
            return data, (time.perf_counter() - t0) * 1e6 / iters

        wrapper.__wrapped__ = func
        wrapper.__name__ = getattr(func, "__name__", "perftest_wrapper")
        return wrapper

    return decorator


def tensor_dump(x, name, dir="./"):
    torch.save(x.detach().cpu(), os.path.join(dir, f"{name}.pt"))


def tensor_load(path):
    return torch.load(path)
'''

# Used only when the real einops is not importable (the GPU machine may have no network).
_EINOPS_FALLBACK = '''\
"""Minimal stand-in for einops.rearrange (axis names, parenthesised groups; no ellipsis)."""
import math
import re

__version__ = "0+aiter_suite_fallback"


def _parse(side):
    groups = []
    for m in re.finditer(r"\\(([^)]*)\\)|(\\w+)", side):
        groups.append(m.group(1).split() if m.group(1) is not None else [m.group(2)])
    return groups


def rearrange(tensor, pattern, **sizes):
    left, right = (s.strip() for s in pattern.split("->"))
    lg, rg = _parse(left), _parse(right)
    if len(lg) != tensor.dim():
        raise ValueError(f"rearrange: {pattern!r} has {len(lg)} input axes, tensor has {tensor.dim()}")
    dims = dict(sizes)
    for group, n in zip(lg, tensor.shape):
        unknown = [a for a in group if a not in dims]
        known = math.prod(dims[a] for a in group if a in dims)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer {unknown} in {pattern!r}")
        if unknown:
            dims[unknown[0]] = n // known
    flat_in = [a for g in lg for a in g]
    flat_out = [a for g in rg for a in g]
    t = tensor.reshape([dims[a] for a in flat_in]).permute([flat_in.index(a) for a in flat_out])
    return t.reshape([math.prod(dims[a] for a in g) for g in rg])
'''


def write_standins(root: Path) -> None:
    """(Re)write the stand-in aiter package under root, and the einops fallback beside it."""
    pkg = root / "aiter"
    pkg.mkdir(parents=True, exist_ok=True)
    files = {
        pkg / "__init__.py": _AITER_INIT,
        pkg / "dtypes.py": _AITER_DTYPES,
        pkg / "test_common.py": _AITER_TEST_COMMON,
        pkg / "_op_switch.py": _OP_SWITCH,
        root / "_fallback" / "einops" / "__init__.py": _EINOPS_FALLBACK,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


# --------------------------------------------------------------------------------------------
# Test module loading and routing of torch.ops.aiter.paged_attention_v1
# --------------------------------------------------------------------------------------------


class _AiterNamespace:
    """What the test module sees as ``torch.ops.aiter``: paged_attention_v1 is the forwarder."""

    def __init__(self, real_ns, forward):
        self._real_ns = real_ns
        self.paged_attention_v1 = forward

    def __getattr__(self, name):
        return getattr(self._real_ns, name)


class _OpsProxy:
    def __init__(self, real_ops, aiter_ns):
        self._real_ops = real_ops
        self.aiter = aiter_ns

    def __getattr__(self, name):
        return getattr(self._real_ops, name)


def _torch_proxy(torch, forward):
    """A module object that is ``torch`` except that ``.ops.aiter.paged_attention_v1`` is ``forward``."""
    import types

    class TorchProxy(types.ModuleType):
        def __getattr__(self, name):
            return getattr(torch, name)

    proxy = TorchProxy("torch")
    proxy.ops = _OpsProxy(torch.ops, _AiterNamespace(torch.ops.aiter, forward))
    return proxy


def load_test_module(test_file: Path, standins: Path, device: str):
    """Import aiter's test file with the stand-ins first on sys.path; route its op calls."""
    import torch

    import aiter_swa  # noqa: F401  (before the stand-ins shadow any real aiter)

    for name in [m for m in sys.modules if m == "aiter" or m.startswith("aiter.")]:
        del sys.modules[name]
    sys.path.insert(0, str(standins))
    if importlib.util.find_spec("einops") is None:
        sys.path.append(str(standins / "_fallback"))
    aiter = importlib.import_module("aiter")
    if not getattr(aiter, "STANDIN", False):
        raise RuntimeError(f"'import aiter' found {aiter.__file__}, not the stand-in under {standins}")
    from aiter._op_switch import resolve

    _, op_name = resolve()
    spec = importlib.util.spec_from_file_location("aiter_test_pa_v1", test_file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["aiter_test_pa_v1"] = mod
    spec.loader.exec_module(mod)
    mod.torch = _torch_proxy(torch, aiter.paged_attention_v1)
    if device != "cuda":
        # The test hard-codes "cuda:0" (its device parameter, and the sliding-window test's
        # inner call); redirect both to the requested device.
        inner = mod.test_paged_attention

        def test_paged_attention(*args, **kwargs):
            names = list(inner.__code__.co_varnames[: inner.__code__.co_argcount])
            if "device" in kwargs:
                kwargs["device"] = device
            elif len(args) > names.index("device"):
                args = list(args)
                args[names.index("device")] = device
            return inner(*args, **kwargs)

        test_paged_attention.pytestmark = getattr(inner, "pytestmark", [])
        test_paged_attention.__wrapped__ = inner
        mod.test_paged_attention = test_paged_attention
    return mod, op_name


# --------------------------------------------------------------------------------------------
# Grid: the test functions' own parametrize marks
# --------------------------------------------------------------------------------------------


def label(v) -> str:
    """Short, stable text for a parameter value (used in case ids and --where)."""
    import torch

    if isinstance(v, torch.dtype):
        return str(v).replace("torch.", "")
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, tuple):
        return "(" + ",".join(label(x) for x in v) + ")"
    return str(v)


def grid_of(fn) -> list[dict]:
    """All parameter combinations of fn's @pytest.mark.parametrize marks (pytest's cross product)."""
    axes = []
    for mark in reversed(getattr(fn, "pytestmark", [])):  # decorator order, top first
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if len(names) == 1:
            axes.append([{names[0]: v} for v in values])
        else:
            axes.append([dict(zip(names, v)) for v in values])
    cases = []
    for combo in itertools.product(*axes):
        params = {}
        for d in combo:
            params.update(d)
        cases.append(params)
    return cases


def _split_values(text: str) -> list[str]:
    return [v.strip() for v in re.split(r",(?![^()]*\))", text) if v.strip()]


def select(cases, contexts, where, max_cases, rng):
    if contexts:
        cases = [c for c in cases if "ctx_lens" not in c or c["ctx_lens"] in contexts]
    for key, allowed in where.items():
        cases = [c for c in cases if key not in c or label(c[key]) in allowed]
    if max_cases is not None and len(cases) > max_cases:
        keep = sorted(rng.sample(range(len(cases)), max_cases))
        cases = [cases[i] for i in keep]
    return cases


# --------------------------------------------------------------------------------------------
# Outcome classification
# --------------------------------------------------------------------------------------------

_UNSUPPORTED_RE = re.compile(
    r"(expected (a|one of) block[_ ]size|block[_ ]size\b.*\b(not supported|unsupported)"
    r"|kv_cache_dtype|fp8|quantis|quantiz)",
    re.IGNORECASE,
)


def classify(exc: BaseException) -> tuple[str, str]:
    """Return (outcome, reason) for an exception a case raised."""
    import pytest

    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", msg or "pytest.skip()"
    if isinstance(exc, NotImplementedError):
        return "unsupported", f"NotImplementedError: {msg}"
    if isinstance(exc, (ValueError, TypeError, RuntimeError)) and _UNSUPPORTED_RE.search(msg):
        return "unsupported", f"{type(exc).__name__}: {msg}"
    if isinstance(exc, AssertionError):
        return "failed", f"AssertionError: {msg}"
    return "error", f"{type(exc).__name__}: {msg}"


def _group_key(reason: str, numbers: bool = True) -> str:
    """Exception text with parenthesised details (and numbers) blanked: one cause, one line."""
    reason = re.sub(r"\([^()]*\)", "(..)", reason)
    return (re.sub(r"\d+", "N", reason) if numbers else reason)[:200]


def _features(params: dict) -> str:
    f = []
    if params.get("use_alibi"):
        f.append("alibi")
    if params.get("logits_soft_cap", 0) and params.get("logits_soft_cap") > 0:
        f.append("softcap")
    if params.get("sliding_window", 0):
        f.append("window")
    return "+".join(f) or "plain"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Run aiter's unchanged op_tests/test_pa_v1.py against aiter_swa's paged_attention_v1.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            --where KEY=V[,V...] keeps cases whose parameter KEY has one of the labels V, e.g.
              --where block_size=16,32 --where dtype=float16 --where 'num_heads=(8,1),(32,4)'
              --where quant_cache_dtype=None --where kv_cache_layout=NHD
            Labels: dtypes without 'torch.', enums by name, tuples as (a,b), None as None.
            """),
    )
    p.add_argument("--test-file", type=Path, default=DEFAULT_TEST_FILE)
    p.add_argument("--standins", type=Path, default=DEFAULT_STANDINS,
                   help="folder for the written stand-ins (git-ignored); default .peers/aiter_standins")
    p.add_argument("--log", type=Path, required=True, help="log file (per-case lines, failures' output, summary)")
    p.add_argument("--device", choices=("cuda", "cpu"), default=None,
                   help="cuda (the test as written) or cpu (the CPU path; the test's cuda:0 is redirected). "
                        "Default: cuda when torch sees a GPU, else cpu")
    p.add_argument("--tests", default=",".join(TEST_FUNCTIONS), help="comma-separated test functions to run")
    p.add_argument("--contexts", default="", help="comma-separated ctx_lens to keep, e.g. 128,4097")
    p.add_argument("--where", action="append", default=[], metavar="KEY=V[,V...]")
    p.add_argument("--max-cases", type=int, default=None, help="random sample of at most N cases per test function")
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--perf-iters", type=int, default=1, help="op calls per case in the stand-in perftest (aiter: ~100)")
    p.add_argument("--budget-s", type=float, default=None, help="stop starting new cases after this many seconds")
    p.add_argument("--list", action="store_true", help="print the grid sizes after filtering and exit")
    p.add_argument("--verbose", action="store_true", help="also log the output of passing cases")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.test_file.is_file():
        print(f"missing {args.test_file}: place aiter's test there with op_tests/aiter_suite/fetch_aiter_test.sh",
              file=sys.stderr)
        return 2
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: torch sees no GPU", file=sys.stderr)
        return 2
    os.environ["AITER_SUITE_PERF_ITERS"] = str(args.perf_iters)
    write_standins(args.standins)
    mod, op_name = load_test_module(args.test_file, args.standins, device)
    test_common = importlib.import_module("aiter.test_common")

    contexts = {int(x) for x in args.contexts.split(",") if x.strip()}
    where = {}
    for w in args.where:
        key, _, vals = w.partition("=")
        where[key.strip()] = set(_split_values(vals))
    rng = random.Random(args.sample_seed)
    names = [t.strip() for t in args.tests.split(",") if t.strip()]
    plan = {}
    for name in names:
        fn = getattr(mod, name, None)
        if fn is None:
            print(f"{args.test_file} has no {name}", file=sys.stderr)
            return 2
        full = grid_of(fn)
        plan[name] = (fn, len(full), select(full, contexts, where, args.max_cases, rng))

    source = args.test_file.parent / "SOURCE"
    header = [
        f"aiter test file: {args.test_file}"
        + (f" ({' '.join(source.read_text().split())})" if source.is_file() else ""),
        f"op under test: {op_name}; device: {device}; torch {torch.__version__}"
        + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""),
        "einops: " + getattr(sys.modules.get("einops"), "__version__", "?"),
        "selection: " + "; ".join(f"{n}: {len(c)} of {total}" for n, (_, total, c) in plan.items()),
    ]
    print("\n".join(header), flush=True)
    if args.list:
        return 0

    args.log.parent.mkdir(parents=True, exist_ok=True)
    counts = {n: collections.Counter() for n in plan}
    groups = {n: collections.Counter() for n in plan}
    unsupported = {n: collections.Counter() for n in plan}
    not_run = collections.Counter()
    t_start = time.perf_counter()
    with open(args.log, "w") as log:
        log.write("\n".join(header) + "\n\n")
        for name, (fn, _, cases) in plan.items():
            for i, params in enumerate(cases):
                if args.budget_s is not None and time.perf_counter() - t_start > args.budget_s:
                    not_run[name] += len(cases) - i
                    break
                case_id = "-".join(label(v) for v in params.values())
                buf = io.StringIO()
                test_common.LAST.clear()
                t0 = time.perf_counter()
                tb = ""
                with contextlib.redirect_stdout(buf):
                    try:
                        fn(**params)
                        outcome, reason = "passed", ""
                    except BaseException as exc:  # noqa: BLE001  (one case must not stop the run)
                        if isinstance(exc, KeyboardInterrupt):
                            raise
                        outcome, reason = classify(exc)
                        if outcome in ("failed", "error"):
                            tb = traceback.format_exc()
                dt = time.perf_counter() - t0
                last = dict(test_common.LAST)
                counts[name][outcome] += 1
                if outcome == "failed" and last:
                    groups[name][f"accuracy: checkAllclose mismatch >= 1% of elements [{_features(params)}]"] += 1
                elif outcome in ("failed", "error"):
                    groups[name][_group_key(reason)] += 1
                if outcome == "unsupported":
                    unsupported[name][_group_key(reason, numbers=False)] += 1
                extra = ""
                if last:
                    extra = f" mismatch={last['ratio']:.4f} max_delta={last['max_delta']:.4g}"
                line = f"{outcome.upper():<11} {name}[{case_id}] {dt:.2f}s{extra}" + (f" :: {reason}" if reason else "")
                log.write(line + "\n")
                if outcome in ("failed", "error") or args.verbose:
                    out = buf.getvalue().strip()
                    if out:
                        log.write(textwrap.indent(out, "    | ") + "\n")
                    if tb:
                        log.write(textwrap.indent(tb.strip(), "    ! ") + "\n")
                log.flush()
                if outcome in ("failed", "error"):
                    print(line, flush=True)

        summary = ["", f"summary ({time.perf_counter() - t_start:.1f}s, op {op_name}, device {device}):"]
        for name in plan:
            c = counts[name]
            summary.append(
                f"  {name}: {c['passed']} passed, {c['failed']} failed, {c['error']} error, "
                f"{c['unsupported']} unsupported (feature not in aiter_swa yet), {c['skipped']} skipped by the test"
                + (f", {not_run[name]} not run (budget)" if not_run[name] else "")
            )
            for key, n in groups[name].most_common():
                summary.append(f"      {n:5d} x {key}")
            for key, n in unsupported[name].most_common():
                summary.append(f"      {n:5d} x unsupported: {key}")
        total = sum(counts.values(), collections.Counter())
        summary.append(
            f"total: {total['passed']} passed, {total['failed'] + total['error']} failed"
            f" ({total['failed']} accuracy, {total['error']} error), {total['unsupported']} unsupported,"
            f" {total['skipped']} skipped"
        )
        text = "\n".join(summary)
        print(text)
        log.write(text + "\n")
        log.write("json: " + json.dumps({
            "op": op_name, "device": device,
            "counts": {n: dict(c) for n, c in counts.items()},
            "failure_groups": {n: dict(g) for n, g in groups.items()},
            "unsupported": {n: dict(u) for n, u in unsupported.items()},
            "not_run": dict(not_run),
        }) + "\n")
    print(f"log: {args.log}")
    return 1 if total["failed"] + total["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
