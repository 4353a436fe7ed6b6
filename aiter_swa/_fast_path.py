"""The fast path of the library's GPU ops: a C++ kernel for the CUDA dispatch key that launches
without entering Python (docs/design.md, "The fast path").

The torch dispatcher's call of a Python kernel, the Python validation lookup and the Python GPU
dispatch cost about 10 us per call on an H200 host. The fast path is a boxed C++ kernel
(``csrc/templates/fast_path.cpp.jinja``, a torch extension built by the JIT for the torch of this
process, :mod:`aiter_swa.jit.torch_ext`) registered for the op's CUDA key, whose misses go to the
op's *slow twin* ``aiter_swa::_<name>_slow`` (same schema; its CUDA kernel is the op's Python path):

1. a call's key: per tensor its dtype, layout, device, dim, sizes, strides; None; per scalar its
   value (everything the op's checks read except pointer values), but the op's *per-call ints*
   (``install(per_call_ints=...)``, e.g. pa_v1's ``max_context_len``), which are in the key only as
   ints;
2. a hit (a key whose launch was published): the per-call values of the launch contract, read from
   the arguments in contract order (tensor pointers, each checked against its alignment; 0 for a
   None; doubles; per-call ints, each checked against the bounds the launch admits; the current
   stream of the launch's device; constants), go to the launcher's C entry point
   (``Prepared.raw()`` of a kernel module). An error from it is a RuntimeError naming the op. No
   Python object is touched;
3. anything else (a new key, a misaligned pointer, a per-call int outside its bounds) runs the slow
   twin: the Python path validates,
   raises its named errors, launches and, when it launched, calls :func:`publish` with the launch
   (entry point, its state and the object that owns it, the per-call slots, the device), which the
   C++ side files under the key of the call in flight on this thread.

Each entry keeps its launcher object alive. An op's map holds at most :data:`ENTRY_LIMIT` entries:
when full it is cleared (as the Python path's metadata cache is); an entry a call on another thread
is using is freed after that call.

Off switches: ``AITER_SWA_FAST_PATH=0`` (read at import: the ops keep their Python CUDA kernels);
an op's debug value checks (``AITER_SWA_DEBUG_CHECKS=1``, or set at run time: :func:`suspend`)
send every call to the slow twin; a fast path that cannot be built (no host compiler, no torch
headers, ``AITER_SWA_DISABLE_JIT=1`` with nothing cached) is logged once on the ``aiter_swa``
logger and the ops keep their Python CUDA kernels. The CPU kernels and fake impls are not affected.
"""

from __future__ import annotations

import logging
import os
import threading

logger = logging.getLogger("aiter_swa")

#: The environment variable that turns the fast path off (``0``, ``false``, ``no``, ``off``).
ENV = "AITER_SWA_FAST_PATH"
#: Where a per-call value of a launch comes from (the C++ ``SlotKind``): ``(kind, argument index, arg)``.
TENSOR, OPTIONAL_TENSOR, DOUBLE, STREAM, CONSTANT, BOUNDED_INT = range(6)
#: Entries per op.
ENTRY_LIMIT = 4096

_LOCK = threading.Lock()
_EXT = None  # the loaded extension module
_FAILED: str | None = None  # why it could not be loaded (logged once)
_SUSPENDED: set = set()  # reasons every call takes the slow twin (e.g. "pa_v1 debug checks")
_WARNED: set = set()


def env_enabled() -> bool:
    """``AITER_SWA_FAST_PATH`` is unset or on."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def torch_has_gpu_backend() -> bool:
    """torch was built with CUDA or HIP (no device is queried: nothing is initialised)."""
    import torch

    return bool(getattr(torch.version, "cuda", None) or getattr(torch.version, "hip", None))


def extension():
    """The fast path's module, built or loaded on first use (the JIT's cache, lock and checks), or
    None when it cannot be: the reason is logged once (WARNING) and :func:`failure` returns it."""
    global _EXT, _FAILED
    if _EXT is not None or _FAILED is not None:
        return _EXT
    with _LOCK:
        if _EXT is None and _FAILED is None:
            try:
                from aiter_swa.jit import loader, torch_ext

                _EXT = loader.load_module(torch_ext.fast_path_spec())
                _EXT.set_enabled(not _SUSPENDED)
            except Exception as e:  # noqa: BLE001 - never fail an op because the fast path cannot be built
                _FAILED = f"{type(e).__name__}: {e}"
                logger.warning("aiter_swa: the fast path is not available, the GPU ops run their Python path "
                               "(set %s=0 to skip it): %s", ENV, _FAILED)  # fmt: skip
    return _EXT


def failure() -> str | None:
    """Why the extension could not be loaded, or None."""
    return _FAILED


def wanted() -> bool:
    """Whether the ops should register a fast kernel for the CUDA key: on (:data:`ENV`) and torch has
    a GPU backend."""
    return env_enabled() and torch_has_gpu_backend()


def install(qualname: str, slow_qualname: str, dispatch_key: str = "CUDA", limit: int = ENTRY_LIMIT,
            per_call_ints: tuple = ()) -> bool:  # fmt: skip
    """Register the fast kernel of ``qualname`` (``"ns::name"``, defined, with no kernel for
    ``dispatch_key`` yet) for ``dispatch_key``, its misses going to ``slow_qualname``'s kernel of that
    key (same arguments, no returns), at most ``limit`` entries kept. ``per_call_ints``: names of
    ``int`` arguments left out of the key (a launch reads them through :data:`BOUNDED_INT` slots).
    Returns False (nothing registered) when the extension is not available. The registration lasts
    as long as the process.

    Raises:
        ValueError: the ops differ in their arguments, return something, ``qualname`` already has
            one, or a ``per_call_ints`` name is not an ``int`` argument.
    """
    ext = extension()
    if ext is None:
        return False
    ext.register_kernel(qualname, slow_qualname, dispatch_key, limit, list(per_call_ints))
    return True


def publish(launcher, slots: tuple, device: str, stream: int) -> None:
    """File ``launcher`` under the key of the fast-path call in flight on this thread (none: nothing).

    Args:
        launcher: a prepared launcher with ``raw() -> (C entry point, state)`` (the state lives as
            long as ``launcher``, which the entry keeps).
        slots: ``(kind, argument index, arg)`` per per-call value, in launch-contract order: kind
            :data:`TENSOR` (arg: its pointer's alignment in bytes), :data:`OPTIONAL_TENSOR`,
            :data:`DOUBLE`, :data:`STREAM` (the device's current stream), :data:`CONSTANT` (arg),
            :data:`BOUNDED_INT` (a per-call int argument, admitted in ``[0, arg]``: a value outside
            takes the slow twin).
        device: the launch's device, e.g. ``"cuda:1"``.
        stream: the raw current stream of ``device`` as the caller sees it (checked against C++'s).
    """
    ext = _EXT
    if ext is None or not ext.in_flight():
        return
    try:
        fn, state = launcher.raw()
        reason = ext.publish(fn, state, launcher, slots, device, stream)
    except Exception as e:  # noqa: BLE001 - the call itself succeeded: it must not fail for the fast path
        reason = f"{type(e).__name__}: {e}"
    if reason and reason != "the key is already published" and reason not in _WARNED:
        _WARNED.add(reason)
        logger.warning("aiter_swa: a launch was not filed on the fast path (such calls take the Python path): %s",
                       reason)  # fmt: skip


def suspend(reason: str, on: bool) -> None:
    """Send every fast-path call to its slow twin while any ``reason`` is on (e.g. an op's debug
    value checks, which only the Python path runs)."""
    (_SUSPENDED.add if on else _SUSPENDED.discard)(reason)
    if _EXT is not None:
        _EXT.set_enabled(not _SUSPENDED)


def stats(qualname: str) -> dict | None:
    """Counters of ``qualname``'s fast kernel (hits, misses, misaligned, out_of_range, unkeyed,
    published, cleared, entries), or None when it has none."""
    if _EXT is None:
        return None
    try:
        return _EXT.stats(qualname)
    except ValueError:
        return None

