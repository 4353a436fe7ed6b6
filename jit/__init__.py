"""aiter_swa.jit: render, compile, cache and load specialized GPU kernels (DESIGN.md §5).

Modules, one job each, none with import-time side effects and none importing torch at module level
(the install-time pre-build runs without torch):

- ``spec``: :class:`~aiter_swa.jit.spec.KernelSpec`, the frozen description of one specialization.
- ``paths``: where csrc/, the templates, the package's prebuilt dir and ``_config.py`` are.
- ``render``: Jinja2 (``StrictUndefined``) rendering of one translation unit.
- ``toolchain``: GPU arch detection, compiler discovery, flags, compiler identity.
- ``build``: build.ninja writing and running (one ninja for one or many specs).
- ``cache``: content-keyed on-disk cache, locking, atomic publish, directory safety checks.
- ``manifest``: the pre-built kernel directories and their manifest.
- ``loader``: :func:`~aiter_swa.jit.loader.get_launcher`, the in-process spec -> launcher dict.
- ``resources``: per-kernel register/scratch/LDS numbers parsed from compiler remarks.
- ``prebuild``: ``python -m aiter_swa.jit.prebuild`` (CLI).
- ``errors``: exceptions and warnings.
"""
