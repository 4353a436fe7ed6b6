"""Install aiter_swa; the top-level ``jit/`` folder becomes the subpackage ``aiter_swa.jit``.

``csrc/`` (headers and Jinja templates) is installed as package data under ``aiter_swa/csrc`` so the
JIT can render and compile kernels from an installed package. With
``AITER_SWA_PREBUILD_ARCHS="gfx942;gfx90a"`` (or ``sm_90``) the pre-build runs at install time and
its kernels are installed under ``aiter_swa/prebuilt``, which the runtime uses without compiling.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "jit" / "_version.py").read_text()).group(1)
PREBUILD_ARCHS = [a for a in os.environ.get("AITER_SWA_PREBUILD_ARCHS", "").replace(",", ";").split(";") if a]


class BinaryDistribution(Distribution):
    """A wheel that carries pre-built kernels is platform-specific (not py3-none-any)."""

    def has_ext_modules(self):
        return bool(PREBUILD_ARCHS)


class BuildPyWithKernels(build_py):
    """Copy csrc/ into the package; optionally pre-build kernels into it."""

    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads csrc/ from the source tree
        pkg = Path(self.build_lib) / "aiter_swa"
        shutil.copytree(ROOT / "csrc", pkg / "csrc", dirs_exist_ok=True)
        if PREBUILD_ARCHS:
            # Run aiter_swa.jit.prebuild from the build tree without executing aiter_swa/__init__.py,
            # which imports torch (absent from an isolated build environment; the JIT and the op
            # catalogue aiter_swa.ops need none).
            boot = (
                "import runpy, sys, types; pkg = types.ModuleType('aiter_swa'); "
                f"pkg.__path__ = [{str(pkg)!r}]; sys.modules['aiter_swa'] = pkg; "
                "runpy.run_module('aiter_swa.jit.prebuild', run_name='__main__', alter_sys=True)"
            )
            # --prune: a build dir reused from an earlier build keeps only this build's kernels
            cmd = [sys.executable, "-c", boot, "--out", str(pkg / "prebuilt"), "--prune"]
            for a in PREBUILD_ARCHS:
                cmd += ["--arch", a]
            subprocess.run(cmd, check=True)


setup(
    name="aiter_swa",
    version=VERSION,
    description="Paged-attention decode with sliding-window attention: HIP-first kernels, JIT-compiled, torch.ops.aiter_swa",
    # every op folder under aiter_swa/ops is a package of its own: no edit here when an op is added
    packages=["aiter_swa", "aiter_swa.jit"] + [f"aiter_swa.{p}" for p in find_packages("aiter_swa")],
    package_dir={"aiter_swa": "aiter_swa", "aiter_swa.jit": "jit"},
    python_requires=">=3.9",
    # numpy: torch's CPU and CUDA wheels do not require it, but without it `import torch` warns
    # "Failed to initialize NumPy" on every run and torch's NumPy interop is off (see README).
    # tqdm: the pre-build's progress bar.
    install_requires=["torch>=2.4", "numpy>=1.22", "jinja2>=3.0", "pybind11>=2.10", "ninja>=1.10", "filelock>=3.12",
                      "tqdm>=4.66"],
    # transformers: the model-config tests check aiter_swa's reading of config.json against it, and
    # aiter_swa.integrations.transformers reads internals of one minor release (5.17);
    # psutil: transformers' continuous batching sizes its cache with it on the CPU.
    extras_require={
        "test": ["pytest>=7", "transformers>=5.17,<5.18", "psutil>=5"],
        "transformers": ["transformers>=5.17,<5.18", "psutil>=5"],
    },
    cmdclass={"build_py": BuildPyWithKernels},
    distclass=BinaryDistribution,
)
