"""The README's first command runs clean: no warning on stderr (issue 11, item 5).

torch's CPU and CUDA wheels do not require NumPy, but ``import torch`` without it prints torch's
"Failed to initialize NumPy" UserWarning (``torch/csrc/utils/tensor_numpy.cpp``) on every run, and
``Tensor.numpy()`` / ``torch.from_numpy`` do not work. The warning comes from torch's own import,
before aiter_swa runs any code (the README's check script imports torch first), so it cannot be
filtered by aiter_swa; the package requires NumPy instead.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NUMPY_WARNING = "Failed to initialize NumPy"

# Makes `import numpy` fail as it does where NumPy is not installed.
_HIDE_NUMPY = textwrap.dedent("""
    import sys
    class _NoNumpy:
        def find_spec(self, name, path=None, target=None):
            if name == "numpy" or name.startswith("numpy."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, _NoNumpy())
""")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITER_SWA_")}
    env["PYTHONWARNINGS"] = "default"  # show every warning once, whatever the caller's filters
    return env


def test_the_warning_is_torchs_and_appears_without_numpy():
    """Control: where NumPy cannot be imported, importing torch alone prints the warning, so the
    test below would see it if NumPy were missing."""
    proc = subprocess.run([sys.executable, "-c", _HIDE_NUMPY + "import torch\n"], capture_output=True, text=True,
                          timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert NUMPY_WARNING in proc.stderr


def test_numpy_is_a_requirement_of_the_package():
    reqs = importlib.metadata.requires("aiter_swa") or []
    names = {re.split(r"[ <>=!~;\[]", r, maxsplit=1)[0].lower() for r in reqs if "extra ==" not in r}
    assert "numpy" in names, reqs
    importlib.import_module("numpy")  # and installed with it


@pytest.mark.skipif(not (REPO / "op_tests" / "pa_v1" / "test_pa_v1_swa.py").is_file(), reason="needs the source tree")
def test_readme_first_command_prints_nothing_on_stderr(tmp_path):
    """The second half of the README's first command (CPU path here, GPU where torch sees one),
    reduced in size: it passes and writes nothing to stderr (no NumPy warning, no other warning)."""
    cmd = [sys.executable, str(REPO / "op_tests" / "pa_v1" / "test_pa_v1_swa.py"),
           "--ctx", "1100", "--window", "1024", "--num_seqs", "2", "--iters", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env=dict(_env(), AITER_SWA_CACHE_DIR=str(tmp_path / "cache")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout
    assert proc.stderr == "", proc.stderr
