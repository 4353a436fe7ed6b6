"""Per-kernel resource usage parsed from compiler output.

AMD: ``-Rpass-analysis=kernel-resource-usage`` remarks (clang/hipcc): VGPRs, SGPRs, AGPRs, scratch
bytes per lane, dynamic stack, occupancy (waves/SIMD), VGPR/SGPR spills, LDS bytes per block.
NVIDIA: ``-Xptxas -v``: registers, stack frame bytes, spill store/load bytes, shared memory bytes.
"""

from __future__ import annotations

import re

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

#: Columns of the resource table, per backend.
COLUMNS = {
    "hip": ("vgpr", "sgpr", "agpr", "scratch", "vgpr_spill", "sgpr_spill", "lds", "occupancy"),
    "cuda": ("registers", "spill_stores", "spill_loads", "stack", "smem"),
}


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
        ``smem`` (bytes).
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
        title = "AMD (kernel-resource-usage: scratch bytes/lane, LDS bytes/block, occupancy waves/SIMD)" \
            if backend == "hip" else "NVIDIA (ptxas -v: bytes)"
        lines += [title, fmt(header), fmt(tuple("-" * w for w in widths))] + [fmt(r) for r in body] + [""]
    return "\n".join(lines)
