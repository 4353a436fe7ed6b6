"""Launch contracts: the ordered parameters of an op's ``launch`` function, defined once in Python.

An op declares its launcher's parameters as a :class:`LaunchContract`; the op's Jinja template
renders the C++ ``launch`` signature, the struct handed to the kernel's host launch and the
pybind11 argument names from it (so a caller that passes an argument by a wrong name gets a
TypeError naming it), and the op's GPU dispatch, tests and benchmarks build their argument tuples
from it (:meth:`LaunchContract.pack`, :attr:`LaunchContract.names`).

Each parameter is either bound once per *plan* (what follows from the metadata of a call: sizes,
strides, offsets, the device) or passed on every *call* (``per_call=True``: pointers, scalars that
may change between calls, the stream), or *derived* (``derived=True``: computed by the prepared
launcher on every call from the per-call and per-plan values, e.g. a split that depends on a per-call
size; ``launch`` takes them as arguments, ``prepare`` and a prepared call do not). A template that
renders a *prepared* launcher binds the plan parameters once (``prepare(<plan parameters>)``) and
takes only the per-call ones afterwards, so a call converts a dozen Python values instead of every
parameter.

Parameter kinds and their C++ types: ``ptr`` -> ``uintptr_t`` (a device pointer as an int, e.g.
``tensor.data_ptr()``; 0 for an absent optional tensor), ``int`` -> ``int64_t``, ``float`` ->
``double``, ``stream`` -> ``uintptr_t`` (the raw ``cudaStream_t`` / ``hipStream_t``).
"""

from __future__ import annotations

import dataclasses

CPP_TYPES = {"ptr": "uintptr_t", "int": "int64_t", "float": "double", "stream": "uintptr_t"}


@dataclasses.dataclass(frozen=True)
class Param:
    """One launcher parameter: its name, kind (a key of :data:`CPP_TYPES`) and meaning."""

    name: str
    kind: str
    doc: str = ""
    #: Passed on every call (True) or bound once per plan (False).
    per_call: bool = False
    #: Computed by the prepared launcher on each call (an argument of ``launch`` only).
    derived: bool = False

    def __post_init__(self):
        if self.per_call and self.derived:
            raise ValueError(f"Param {self.name}: per_call and derived exclude each other")
        if self.kind not in CPP_TYPES:
            raise ValueError(f"Param {self.name}: kind expected one of {tuple(CPP_TYPES)}, got {self.kind!r}")
        if not self.name.isidentifier():
            raise ValueError(f"Param: expected an identifier, got {self.name!r}")

    @property
    def cpp_type(self) -> str:
        return CPP_TYPES[self.kind]


@dataclasses.dataclass(frozen=True)
class LaunchContract:
    """The ordered parameters of one op's launcher."""

    params: tuple

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"LaunchContract: duplicate parameter names in {names}")

    @property
    def names(self) -> tuple:
        return tuple(p.name for p in self.params)

    @property
    def call_names(self) -> tuple:
        """The per-call parameters' names, in order (the prepared launcher's call arguments)."""
        return tuple(p.name for p in self.params if p.per_call)

    @property
    def plan_names(self) -> tuple:
        """The per-plan parameters' names, in order (the arguments of ``prepare``)."""
        return tuple(p.name for p in self.params if not p.per_call and not p.derived)

    @property
    def derived_names(self) -> tuple:
        """The derived parameters' names, in order (set by the prepared launcher on each call)."""
        return tuple(p.name for p in self.params if p.derived)

    def index(self, name: str) -> int:
        """Position of parameter ``name`` (ValueError naming it when absent)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"launch contract has no parameter {name!r} (parameters: {', '.join(self.names)})") from None

    def pack(self, **values) -> list:
        """The positional argument list for ``launch`` from values given by name (all of them).

        Raises:
            TypeError: a parameter is missing or an unknown name is given; the message names it.
        """
        return _ordered("launch", self.names, values)

    def pack_plan(self, **values) -> list:
        """The positional argument list for ``prepare`` from the per-plan values given by name (all of them).

        Raises:
            TypeError: a per-plan parameter is missing or another name is given; the message names it.
        """
        return _ordered("prepare", self.plan_names, values)

    def pack_call(self, **values) -> list:
        """The positional argument list for a prepared launcher's call from the per-call values given
        by name (all of them).

        Raises:
            TypeError: a per-call parameter is missing or another name is given; the message names it.
        """
        return _ordered("call", self.call_names, values)

    def template_vars(self) -> dict:
        """The lists of :class:`Param` the template loops over: ``launch_params`` (all),
        ``call_params`` (per call), ``plan_params`` (per plan) and ``derived_params``."""
        return {
            "launch_params": list(self.params),
            "call_params": [p for p in self.params if p.per_call],
            "plan_params": [p for p in self.params if not p.per_call and not p.derived],
            "derived_params": [p for p in self.params if p.derived],
        }


def _ordered(what: str, names: tuple, values: dict) -> list:
    missing = [n for n in names if n not in values]
    unknown = [n for n in values if n not in names]
    if missing or unknown:
        raise TypeError(f"{what} arguments: missing {missing}, unknown {unknown}")
    return [values[n] for n in names]
