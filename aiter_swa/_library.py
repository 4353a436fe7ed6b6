"""Shared torch registration of the library's ops: schema from one argument listing, the op
namespace, and co-existence with AMD's aiter.

Every op is defined as ``torch.ops.aiter_swa.<name>``. An op that replaces one of AMD aiter's
(``aiter_alias=True``) is also defined as ``torch.ops.aiter.<name>`` with the same schema and
kernels, so aiter call sites work unchanged, but only when AMD's aiter is not installed in the
environment: where it is, aiter keeps its names (importing it before or after aiter_swa works)
and aiter_swa logs once, on the ``aiter_swa`` logger, which name to call instead.

An op's arguments are listed once, as the fields of a dataclass (its *call* class): each field made
with :func:`arg` carries its schema type; :func:`schema_of` renders the torch schema from them.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import logging

import torch

from . import _fast_path

NAMESPACE = "aiter_swa"
AITER_NAMESPACE = "aiter"
#: Distribution names under which AMD's aiter (github.com/ROCm/aiter) is installed. PyPI's
#: unrelated package ``aiter`` (an async-iteration library) shares the import name, not these.
AMD_AITER_DISTRIBUTIONS = ("amd-aiter", "amd_aiter")

logger = logging.getLogger("aiter_swa")


def arg(schema_type: str, default=dataclasses.MISSING):
    """A dataclass field that is an op argument of torch schema type ``schema_type`` (e.g. ``"Tensor(a!)"``)."""
    return dataclasses.field(default=default, metadata={"schema": schema_type})


def derived(default=None):
    """A dataclass field filled by validation (not an op argument)."""
    return dataclasses.field(default=default, metadata={})


def schema_of(call_type) -> str:
    """The torch schema ``(<type> <name>[=<default>], ...) -> ()`` of a call class's :func:`arg` fields."""
    parts = []
    for f in dataclasses.fields(call_type):
        if "schema" not in f.metadata:
            continue
        text = f"{f.metadata['schema']} {f.name}"
        if f.default is not dataclasses.MISSING:
            text += f"={f.default!r}" if f.default is not None else "=None"
        parts.append(text)
    return "(" + ", ".join(parts) + ") -> ()"


def arg_names(call_type) -> tuple:
    """The op argument names of a call class, in schema order."""
    return tuple(f.name for f in dataclasses.fields(call_type) if "schema" in f.metadata)


@functools.lru_cache(maxsize=None)
def amd_aiter_installed() -> str | None:
    """The installed AMD aiter distribution's ``name version``, or None."""
    for name in AMD_AITER_DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        return f"{dist.metadata['Name']} {dist.version}"
    return None


_LIBS: dict = {}


def _lib(namespace: str) -> torch.library.Library:
    lib = _LIBS.get(namespace)
    if lib is None:
        lib = _LIBS[namespace] = torch.library.Library(namespace, "FRAGMENT")
    return lib


def define_op(name: str, schema: str, *, cpu, cuda, fake, aiter_alias: bool = False, fast_path: bool = False,
              per_call_ints: tuple = ()) -> list:  # fmt: skip
    """Define ``aiter_swa::<name>`` (and the ``aiter::<name>`` alias, see the module docstring).

    Args:
        schema: ``(...) -> ()`` (:func:`schema_of`).
        cpu, cuda: the CPU and CUDA kernels (the CUDA dispatch key also serves ROCm builds of torch).
        fake: the fake (meta) impl for torch.compile and FakeTensor.
        fast_path: serve the CUDA key with the fast path's C++ kernel (:mod:`aiter_swa._fast_path`)
            where it is wanted and available: ``cuda`` then becomes the kernel of the slow twin
            ``aiter_swa::_<name>_slow`` (same schema), which takes the fast kernel's misses and must
            publish its launches (:func:`aiter_swa._fast_path.publish`).
        per_call_ints: names of ``int`` arguments the fast path leaves out of its key (a launch
            reads them per call, within the bounds it publishes).

    Returns:
        The qualified names defined, e.g. ``["aiter_swa::paged_attention_v1", "aiter::paged_attention_v1"]``.
    """
    namespaces = [NAMESPACE]
    if aiter_alias:
        amd = amd_aiter_installed()
        if amd is not None:
            logger.warning("AMD aiter (%s) is installed and keeps torch.ops.%s.%s; call torch.ops.%s.%s for aiter_swa's "
                        "op", amd, AITER_NAMESPACE, name, NAMESPACE, name)
        elif hasattr(getattr(torch.ops, AITER_NAMESPACE), name):
            logger.warning("torch.ops.%s.%s is already defined (by another package); call torch.ops.%s.%s for aiter_swa's "
                        "op", AITER_NAMESPACE, name, NAMESPACE, name)
        else:
            namespaces.append(AITER_NAMESPACE)
    slow = None
    if fast_path and _fast_path.wanted() and _fast_path.extension() is not None:
        slow = f"{NAMESPACE}::_{name}_slow"
        _lib(NAMESPACE).define(f"_{name}_slow" + schema)
        _lib(NAMESPACE).impl(f"_{name}_slow", cuda, "CUDA")
    for ns in namespaces:
        lib = _lib(ns)
        lib.define(name + schema)
        lib.impl(name, cpu, "CPU")
        if slow is None or not _install_fast(f"{ns}::{name}", slow, per_call_ints):
            lib.impl(name, cuda, "CUDA")
        torch.library.register_fake(f"{ns}::{name}", fake, lib=lib)
    return [f"{ns}::{name}" for ns in namespaces]


def _install_fast(qualname: str, slow: str, per_call_ints: tuple = ()) -> bool:
    try:
        return _fast_path.install(qualname, slow, "CUDA", per_call_ints=per_call_ints)
    except Exception as e:  # noqa: BLE001 - never fail the import: the Python kernel serves instead
        logger.warning("aiter_swa: the fast path could not be registered for %s; its Python path serves it: %s",
                       qualname, e)  # fmt: skip
        return False
