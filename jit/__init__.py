"""aiter_swa.jit: render, compile, cache and load specialized GPU kernels of any op (docs/design.md).

Op-agnostic: an op registers its spec type and supported matrix in the op table; the JIT never
imports an op's modules (the one place that names the ops is the catalogue package
``aiter_swa.ops``, which :mod:`~aiter_swa.jit.registry` imports). Modules, one job each, none with
import-time side effects and none importing torch at module level (the install-time pre-build runs
without torch):

- ``spec``: :class:`~aiter_swa.jit.spec.KernelSpec`, the protocol (and base) of every op's spec.
- ``registry``: the op table (:class:`~aiter_swa.jit.registry.OpDef`: spec type + matrix).
- ``contract``: launch contracts, an op's ordered launcher parameters, defined once.
- ``selftest``: the JIT's own self-test op ``jit_smoke`` (a tiny kernel).
- ``paths``: where csrc/ (templates, headers) and the package's prebuilt dir are.
- ``render``: Jinja2 (``StrictUndefined``) rendering of one translation unit.
- ``toolchain``: GPU arch detection, wavefront size, compiler discovery, flags, compiler identity.
- ``build``: the one build pipeline (render, build.ninja, ninja, the :class:`~aiter_swa.jit.build.Artifact` record).
- ``cache``: content key and on-disk storage: entries, locking, atomic publish, directory safety.
- ``manifest``: the pre-built kernel directories and their manifest.
- ``loader``: :func:`~aiter_swa.jit.loader.get_launcher`, the in-process dict, and the lookup order.
- ``resources``: per-kernel register/scratch/LDS numbers parsed from compiler remarks.
- ``prebuild``: ``python -m aiter_swa.jit.prebuild`` (CLI).
- ``errors``: exceptions and warnings.
"""
