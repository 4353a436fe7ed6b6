"""Per-test record of kernel loads for the causal_conv1d tests (GPU runs).

With ``AITER_SWA_LOAD_LOG=<file>`` set (the GPU suite's conv1d step sets it), every test appends one
line to that file (each pytest-xdist worker appends whole lines): the test id, its wall time, and
each kernel module the test made this process load, with where it came from (``prebuilt``,
``cache`` or ``compiled``, :func:`aiter_swa.jit.loader.origin`) and the seconds the load took, plus
any JitWarning raised meanwhile (e.g. why a pre-built kernel was ignored). A slow test then shows
whether its time went to compiling kernels (a pre-build that was not used) or elsewhere.
"""

from __future__ import annotations

import os
import time
import warnings

import pytest

LOAD_LOG_ENV = "AITER_SWA_LOAD_LOG"


@pytest.fixture(autouse=True)
def _record_kernel_loads(request):
    path = os.environ.get(LOAD_LOG_ENV)
    if not path:
        yield
        return
    from aiter_swa.jit import loader
    from aiter_swa.jit.errors import JitWarning

    loads = []
    original = loader._find_or_build

    def timed(spec):
        t0 = time.perf_counter()
        try:
            found = original(spec)
        except BaseException as e:
            loads.append(f"{spec.name}=FAILED({type(e).__name__}) {time.perf_counter() - t0:.2f}s")
            raise
        loads.append(f"{spec.name}={found[1][0]} {time.perf_counter() - t0:.2f}s")
        return found

    loader._find_or_build = timed
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", JitWarning)
            yield
    finally:
        loader._find_or_build = original
        jit_warnings = [str(w.message)[:300] for w in caught if issubclass(w.category, JitWarning)]
        line = (f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {request.node.nodeid} "
                f"{time.perf_counter() - t0:.2f}s loads: {', '.join(loads) or '-'}"
                + (f" warnings: {' | '.join(jit_warnings)}" if jit_warnings else ""))  # fmt: skip
        with open(path, "a") as f:
            f.write(line + "\n")
        for w in caught:  # back to pytest's own summary
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
