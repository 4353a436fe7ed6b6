"""The JIT's op table: each op registers its spec type and its supported matrix here.

An op's spec module (torch-free) calls :func:`register_op` at import. The JIT does not know any op:
the one place that names them is the op catalogue, the package :data:`CATALOGUE`
(``aiter_swa.ops``), whose import registers every op; :func:`load_catalogue` imports it when the
pre-build CLI or :func:`spec_from_json` need the whole table.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
from typing import Callable

#: The package whose import registers every op of the library (torch-free).
CATALOGUE = "aiter_swa.ops"

_OPS: dict = {}


@dataclasses.dataclass(frozen=True)
class OpDef:
    """One op's entry in the table.

    Attributes:
        name: the op's name (``spec_type.op``), e.g. ``"pa_v1"``.
        spec_type: the op's :class:`~aiter_swa.jit.spec.KernelSpec` subclass.
        axes: axis name -> supported values, in the spec's field order (every field but ``arch``).
            This is the pre-build matrix: the product of the axes, less what ``supported`` refuses.
        supported: ``supported(axis_values: dict) -> bool``, for axes that constrain each other
            (e.g. KV dtype == query dtype until fp8 KV exists).
        description: one line for ``--help``.
        internal: not part of the default pre-build (the JIT's own self-test kernel).
        from_hf_config: optional hook of ``python -m aiter_swa.jit.prebuild --hf-config``:
            ``from_hf_config(config: dict, *, archs: list, dtypes: list | None, kv_cache_dtype: str)
            -> ModelKernels``, the op's specs that the model described by ``config`` (a parsed
            Hugging Face ``config.json``) needs on ``archs``; ``dtypes`` (the dtypes the model runs
            in) None means the config's own. It raises ValueError for a config or option it cannot
            use and NotImplementedError for a model feature the op does not support yet (each
            message names the key or option). The JIT knows nothing about models: the op does.
        default: ``default(axis_values: dict, arch: str) -> bool`` or None: narrows the matrix to
            what deployments on ``arch`` need (e.g. the fp8 format of that arch), unless a filter
            names one of ``default_axes``: an explicit choice on those axes gets every supported value.
        default_axes: the axes whose explicit filter lifts ``default``.
    """

    name: str
    spec_type: type
    axes: dict
    supported: Callable[[dict], bool] = lambda values: True
    description: str = ""
    internal: bool = False
    from_hf_config: Callable | None = None
    default: Callable[[dict, str], bool] | None = None
    default_axes: tuple = ()

    def __post_init__(self):
        fields = [f.name for f in dataclasses.fields(self.spec_type) if f.name != "arch"]
        if list(self.axes) != fields:
            raise ValueError(f"op {self.name}: axes {list(self.axes)} must be the spec's fields {fields} in order")
        if self.spec_type.op != self.name:
            raise ValueError(f"op {self.name}: spec_type.op is {self.spec_type.op!r}")

    def matrix(self, archs, filters: dict | None = None, narrow: bool = True) -> list:
        """The specs of the supported matrix for ``archs``, restricted to ``filters`` (axis -> values)
        and, with ``narrow``, to ``default`` (unless a filter names one of ``default_axes``).

        Raises:
            ValueError: a filter names an unknown axis or a value outside the axis's supported list.
        """
        filters = filters or {}
        chosen = {}
        for axis, supported in self.axes.items():
            given = filters.get(axis)
            if not given:
                chosen[axis] = list(supported)
                continue
            bad = [g for g in given if g not in supported]
            if bad:
                raise ValueError(f"{axis}: {', '.join(map(str, bad))} not supported by op {self.name} "
                                 f"(supported: {', '.join(map(str, supported))})")
            chosen[axis] = list(dict.fromkeys(given))
        unknown = sorted(set(filters) - set(self.axes))
        if unknown:
            raise ValueError(f"op {self.name} has no axis {', '.join(unknown)} (axes: {', '.join(self.axes)})")
        narrow = narrow and self.default is not None and not any(filters.get(axis) for axis in self.default_axes)
        specs = []
        for arch in dict.fromkeys(archs):
            for combo in itertools.product(*chosen.values()):
                values = dict(zip(chosen, combo))
                if self.supported(values) and (not narrow or self.default(values, arch)):
                    specs.append(self.spec_type(**values, arch=arch))
        return specs


@dataclasses.dataclass(frozen=True)
class ModelKernels:
    """What an op's ``from_hf_config`` hook returns.

    Attributes:
        specs: the op's specs the model needs, without duplicates, in a stable order.
        summary: one line saying what was read from the config (layers, heads, features).
    """

    specs: list
    summary: str


def register_op(op: OpDef) -> OpDef:
    """Add ``op`` to the table (idempotent for the same spec type); returns it."""
    old = _OPS.get(op.name)
    if old is not None and old.spec_type is not op.spec_type:
        raise ValueError(f"op {op.name!r} is already registered with spec type {old.spec_type.__qualname__}")
    _OPS[op.name] = op
    return op


def load_catalogue() -> None:
    """Import the JIT's own self-test op and :data:`CATALOGUE`, which registers every op of the library."""
    importlib.import_module(f"{__package__}.selftest")
    importlib.import_module(CATALOGUE)


def ops(include_internal: bool = False) -> dict:
    """Registered ops by name (the catalogue's and any registered since)."""
    load_catalogue()
    return {n: o for n, o in _OPS.items() if include_internal or not o.internal}


def get_op(name: str) -> OpDef:
    """The registered op ``name``.

    Raises:
        KeyError: no such op; the message lists the registered ones.
    """
    if name not in _OPS:
        load_catalogue()
    try:
        return _OPS[name]
    except KeyError:
        raise KeyError(f"op: expected one of {', '.join(sorted(_OPS))}, got {name!r}") from None


def spec_from_json(text: str):
    """The spec whose :meth:`~aiter_swa.jit.spec.KernelSpec.to_json` is ``text``."""
    data = json.loads(text)
    op = get_op(data.pop("op"))
    return op.spec_type(**data)
