"""Per-kernel resource usage parsed from compiler output.

AMD: ``-Rpass-analysis=kernel-resource-usage`` remarks (clang/hipcc): VGPRs, SGPRs, AGPRs, scratch
bytes per lane, dynamic stack, occupancy (waves/SIMD), VGPR/SGPR spills, LDS bytes per block.
NVIDIA: ``-Xptxas -v``: registers, stack frame bytes, spill store/load bytes, shared memory bytes.

Plus, per kernel, the number of matrix instructions in its machine code (:func:`matrix_counts`), so
that a matrix-core kernel that silently fell back to scalar code shows in the table: ``v_mfma*``
(and ``v_smfmac*``) in the AMD disassembly (``llvm-objdump -d`` of the code object, extracted from
the clang offload bundle the build writes), ``HMMA`` in the NVIDIA SASS (``cuobjdump -sass``).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

_AMD_FIELDS = {
    "SGPRs": "sgpr",
    "VGPRs": "vgpr",
    "AGPRs": "agpr",
    "ScratchSize [bytes/lane]": "scratch",
    "Dynamic Stack": "dynamic_stack",
    "Occupancy [waves/SIMD]": "occupancy",
    "SGPRs Spill": "sgpr_spill",
    "VGPRs Spill": "vgpr_spill",
    "LDS Size [bytes/block]": "lds",
}
_AMD_NAME = re.compile(r"remark: Function Name: (\S+) \[-Rpass-analysis=kernel-resource-usage\]")
_AMD_FIELD = re.compile(r"remark:\s+(.+?): (\S+) \[-Rpass-analysis=kernel-resource-usage\]")
_NV_ENTRY = re.compile(r"(?:Compiling entry function|Function properties for) '?([^'\s]+)'?")
_NV_STACK = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_NV_USED = re.compile(r"Used (\d+) registers")
_NV_SMEM = re.compile(r"(\d+) bytes smem")

#: The matrix-instruction column of each backend: its name in the resources dict and the table.
MATRIX_COLUMN = {"hip": "mfma", "cuda": "hmma"}
#: Columns of the resource table, per backend.
COLUMNS = {
    "hip": ("vgpr", "sgpr", "agpr", "scratch", "vgpr_spill", "sgpr_spill", "lds", "occupancy", "mfma"),
    "cuda": ("registers", "spill_stores", "spill_loads", "stack", "smem", "hmma"),
}
#: Settings naming the disassemblers (else they are looked up: :func:`find_disassembler`).
DISASSEMBLER_ENV = {"hip": "AITER_SWA_LLVM_OBJDUMP", "cuda": "AITER_SWA_CUOBJDUMP"}
#: Shown in the matrix column when the disassembler is missing (or failed) for a kernel.
NOT_AVAILABLE = "n/a"


def short_name(mangled: str) -> str:
    """The unqualified function name of an Itanium-mangled symbol (``_ZN9aiter_swa5fooI...`` -> ``foo``)."""
    if not mangled.startswith("_Z"):
        return mangled
    i = 3 if mangled[2:3] == "N" else 2
    names = []
    while i < len(mangled) and mangled[i].isdigit():
        j = i
        while j < len(mangled) and mangled[j].isdigit():
            j += 1
        n = int(mangled[i:j])
        names.append(mangled[j:j + n])
        i = j + n
    return names[-1] if names else mangled


def _value(text: str):
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        return text


def parse_resources(text: str, backend: str) -> dict:
    """Per-kernel resources from a compile log.

    Args:
        text: the compiler's output.
        backend: ``"hip"`` (kernel-resource-usage remarks) or ``"cuda"`` (``ptxas -v``).

    Returns:
        ``{mangled kernel name: {field: value}}``. AMD fields: ``vgpr, sgpr, agpr, scratch``
        (bytes/lane), ``dynamic_stack, occupancy`` (waves/SIMD), ``vgpr_spill, sgpr_spill, lds``
        (bytes/block). NVIDIA fields: ``registers, stack, spill_stores, spill_loads`` (bytes),
        ``smem`` (bytes; static shared memory only, as ptxas reports it: dynamic shared memory is the
        launch's, e.g. the matrix-core warp split's K/V ring, ``MmaSpec::KV_BYTES``).
    """
    out: dict = {}
    cur = None
    if backend == "hip":
        for line in text.splitlines():
            m = _AMD_NAME.search(line)
            if m:
                cur = out.setdefault(m.group(1), {})
                continue
            m = _AMD_FIELD.search(line)
            if m and cur is not None and m.group(1).strip() in _AMD_FIELDS:
                cur[_AMD_FIELDS[m.group(1).strip()]] = _value(m.group(2))
        return out
    if backend != "cuda":
        raise ValueError(f"backend: expected 'hip' or 'cuda', got {backend!r}")
    for line in text.splitlines():
        m = _NV_ENTRY.search(line)
        if m:
            cur = out.setdefault(m.group(1), {})
            continue
        if cur is None:
            continue
        m = _NV_STACK.search(line)
        if m:
            cur.update(stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
        m = _NV_USED.search(line)
        if m:
            cur["registers"] = int(m.group(1))
            s = _NV_SMEM.search(line)
            cur["smem"] = int(s.group(1)) if s else 0
    # ptxas also reports non-inlined device functions ("Function properties for"); keep entries only.
    entries = set(re.findall(r"Compiling entry function '([^']+)'", text))
    return {k: v for k, v in out.items() if k in entries} if entries else out


def spill_problems(resources: dict, backend: str) -> list:
    """Human-readable problems: any scratch, dynamic stack, spill or stack frame (empty list = clean).

    Also flags a log with no kernel at all (remarks missing: nothing could be checked).
    """
    if not resources:
        return ["no kernel resource report found in the compile log"]
    bad = []
    keys = ("scratch", "vgpr_spill", "sgpr_spill") if backend == "hip" else ("stack", "spill_stores", "spill_loads")
    for name, r in sorted(resources.items()):
        for k in keys:
            if k not in r:
                bad.append(f"{short_name(name)}: no {k} reported")
            elif r[k]:
                bad.append(f"{short_name(name)}: {k} = {r[k]}")
        if backend == "hip" and r.get("dynamic_stack"):
            bad.append(f"{short_name(name)}: dynamic stack")
    return bad


def format_table(rows) -> str:
    """A text table of ``rows``: iterable of ``(spec_name, backend, resources dict)``."""
    lines = []
    for backend in ("hip", "cuda"):
        sel = [(n, res) for n, b, res in rows if b == backend]
        if not sel:
            continue
        cols = COLUMNS[backend]
        header = ("spec", "kernel") + cols
        body = []
        for spec_name, res in sel:
            if not res:
                body.append((spec_name, "(no report)") + ("-",) * len(cols))
            for kname, r in sorted(res.items()):
                body.append((spec_name, short_name(kname)) + tuple(str(r.get(c, "-")) for c in cols))
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        fmt = lambda row: "  ".join(str(x).ljust(w) if i < 2 else str(x).rjust(w)  # noqa: E731
                                    for i, (x, w) in enumerate(zip(row, widths)))
        title = "AMD (kernel-resource-usage: scratch bytes/lane, LDS bytes/block, occupancy waves/SIMD; " \
            "mfma: v_mfma instructions in the llvm-objdump disassembly)" \
            if backend == "hip" else "NVIDIA (ptxas -v: bytes; hmma: HMMA instructions in the cuobjdump -sass SASS)"
        lines += [title, fmt(header), fmt(tuple("-" * w for w in widths))] + [fmt(r) for r in body] + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------- matrix instructions
_AMD_FUNC = re.compile(r"^[0-9a-fA-F]+ <([^>]+)>:\s*$")
_AMD_MATRIX = re.compile(r"^\s+v_s?mfmac?_")  # v_mfma_* (MFMA), v_smfmac_* (sparse MFMA, gfx940+)
_NV_FUNC = re.compile(r"^\s*Function : (\S+)\s*$")
_NV_MATRIX = re.compile(r"\bHMMA\b")  # mma.sync / wmma on sm_70+ (SASS mnemonic HMMA.<shape>...)
#: The clang offload bundle's magic (``clang-offload-bundler``'s documented binary format: magic,
#: uint64 entry count, then per entry uint64 offset, size and triple length, and the triple).
_BUNDLE_MAGIC = b"__CLANG_OFFLOAD_BUNDLE__"


def count_matrix_instructions(disassembly: str, backend: str) -> dict:
    """``{kernel symbol: matrix instructions}`` in an ``llvm-objdump -d`` (``"hip"``) or
    ``cuobjdump -sass`` (``"cuda"``) listing; every function of the listing appears, with 0 if it has none."""
    func, matrix = (_AMD_FUNC, _AMD_MATRIX) if backend == "hip" else (_NV_FUNC, _NV_MATRIX)
    if backend not in ("hip", "cuda"):
        raise ValueError(f"backend: expected 'hip' or 'cuda', got {backend!r}")
    counts: dict = {}
    cur = None
    for line in disassembly.splitlines():
        m = func.match(line)
        if m:
            cur = m.group(1)
            counts.setdefault(cur, 0)
        elif cur is not None and matrix.search(line):
            counts[cur] += 1
    return counts


def amdgpu_code_objects(data: bytes) -> list:
    """The AMDGPU ELF code objects inside ``data`` (a library or object written by clang's HIP
    driver): the ``amdgcn`` entries of every clang offload bundle in it; ``data`` itself if it is
    an AMDGPU ELF (machine 224, ``EM_AMDGPU``)."""
    if data[:4] == b"\x7fELF" and len(data) > 20 and struct.unpack_from("<H", data, 18)[0] == 224:
        return [data]
    objects, at = [], data.find(_BUNDLE_MAGIC)
    while at >= 0:
        try:
            (n,) = struct.unpack_from("<Q", data, at + 24)
            pos = at + 32
            for _ in range(min(n, 1024)):
                offset, size, triple_len = struct.unpack_from("<QQQ", data, pos)
                triple = data[pos + 24 : pos + 24 + triple_len].decode("ascii", "replace")
                pos += 24 + triple_len
                if "amdgcn" in triple and size:
                    objects.append(data[at + offset : at + offset + size])
        except struct.error:  # a truncated bundle: take what was read
            pass
        at = data.find(_BUNDLE_MAGIC, at + len(_BUNDLE_MAGIC))
    return objects


def find_disassembler(backend: str, compiler: str | None = None) -> str | None:
    """The disassembler of ``backend``'s code, or None: ``$AITER_SWA_LLVM_OBJDUMP`` (``"hip"``) /
    ``$AITER_SWA_CUOBJDUMP`` (``"cuda"``) when set (a missing file is None); else, for AMD,
    ``llvm-objdump`` next to ``compiler`` (its real path), in ``$ROCM_PATH/llvm/bin``, Debian's
    ``/usr/lib/llvm-19/bin``, or on PATH; for NVIDIA ``cuobjdump`` next to ``compiler``, in
    ``$CUDA_HOME/bin`` or on PATH (CUDA 13's pip/conda layouts may lack it: Triton's wheel carries
    one, ``triton/backends/nvidia/bin/cuobjdump``, with the ``nvdisasm`` it needs)."""
    env = os.environ.get(DISASSEMBLER_ENV[backend], "").strip()
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    name = "llvm-objdump" if backend == "hip" else "cuobjdump"
    dirs = []
    if compiler:
        dirs.append(str(Path(os.path.realpath(compiler)).parent))
    if backend == "hip":
        dirs += [os.path.join(os.environ.get("ROCM_PATH", "/opt/rocm"), "llvm", "bin"), "/usr/lib/llvm-19/bin"]
    else:
        dirs += [os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin")]
    for d in dirs:
        cand = os.path.join(d, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return shutil.which(name) or (shutil.which("llvm-objdump-19") if backend == "hip" else None)


def matrix_counts(path, backend: str, tool: str | None = None, timeout: float = 120) -> dict | None:
    """``{kernel symbol: matrix instructions}`` of the kernels in a built library or object
    (``path``), or None when the disassembler (``tool``, else :func:`find_disassembler`) is missing
    or fails (shown as ``n/a``)."""
    tool = tool or find_disassembler(backend)
    if not tool:
        return None
    env = dict(os.environ)
    if backend == "cuda":  # cuobjdump -sass runs nvdisasm: the one next to it first
        env["PATH"] = str(Path(tool).parent) + os.pathsep + env.get("PATH", "")
    try:
        if backend == "cuda":
            r = subprocess.run([tool, "-sass", str(path)], capture_output=True, text=True, timeout=timeout, env=env)
            return count_matrix_instructions(r.stdout, "cuda") if r.returncode == 0 else None
        counts: dict = {}
        with tempfile.TemporaryDirectory(prefix="aiter_swa-objdump-") as tmp:
            for i, obj in enumerate(amdgpu_code_objects(Path(path).read_bytes())):
                f = Path(tmp) / f"code{i}.elf"
                f.write_bytes(obj)
                r = subprocess.run([tool, "-d", str(f)], capture_output=True, text=True, timeout=timeout, env=env)
                if r.returncode != 0:
                    return None
                for k, v in count_matrix_instructions(r.stdout, "hip").items():
                    counts[k] = counts.get(k, 0) + v
        return counts or None
    except (OSError, subprocess.SubprocessError):
        return None


def add_matrix_counts(resources: dict, path, backend: str, tool: str | None = None) -> dict:
    """``resources`` (:func:`parse_resources`) with each kernel's matrix-instruction count added
    under :data:`MATRIX_COLUMN` (``"n/a"`` when it could not be counted). Returns ``resources``."""
    counts = matrix_counts(path, backend, tool)
    column = MATRIX_COLUMN[backend]
    for name, r in resources.items():
        r[column] = counts.get(name, NOT_AVAILABLE) if counts is not None else NOT_AVAILABLE
    return resources
