"""Summarise Nsight Compute CSV output of causal_conv1d launches (a script, not a test).

``run_gpu_suite.sh conv1d`` with ``CONV1D_NCU=1`` profiles every ``fwd_kernel`` launch of a short
benchmark run per layout (``ncu --csv --metrics ...``, the op's kernel and the tuning variants); this
prints one line per kernel specialization (its ``ConvSpec`` template arguments) and grid: launches,
median time, DRAM bytes read and written per launch, DRAM throughput (% of peak), L2 sectors read /
written by the SMs, instructions, active warps; bytes in MB (10^6).

    python op_tests/causal_conv1d/ncu_summary.py ncu_conv1d_channel_last.csv ncu_conv1d_channel_first.csv
"""

from __future__ import annotations

import collections
import csv
import re
import statistics
import sys

#: Metric units ncu prints, to bytes / microseconds / plain counts.
SCALE = {"byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3,
         "ns": 1e-3, "us": 1.0, "ms": 1e3, "second": 1e6, "%": 1, "sector": 1, "Ksector": 1e3, "Msector": 1e6,
         "inst": 1, "Kinst": 1e3, "Minst": 1e6, "": 1}  # fmt: skip
COLUMNS = (  # (metric, header, divisor)
    ("gpu__time_duration.sum", "us", 1),
    ("dram__bytes_read.sum", "dram_rd_MB", 1e6),
    ("dram__bytes_write.sum", "dram_wr_MB", 1e6),
    ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "dram_%", 1),
    ("lts__t_sectors_srcunit_tex_op_read.sum", "l2_rd_Msec", 1e6),
    ("lts__t_sectors_srcunit_tex_op_write.sum", "l2_wr_Msec", 1e6),
    ("smsp__inst_executed.sum", "Minst", 1e6),
    ("sm__warps_active.avg.pct_of_peak_sustained_active", "warps_%", 1),
)


def short_name(kernel: str) -> str:
    """``fwd_kernel<ConvSpec<...>>`` -> the ConvSpec arguments (the specialization)."""
    m = re.search(r"ConvSpec<(.*?)>\s*>", kernel)
    return m.group(1).replace("aiter_swa::", "").replace(" ", "") if m else kernel[:80]


def main(paths) -> int:
    launches = collections.defaultdict(lambda: collections.defaultdict(list))
    unknown = set()  # (metric, unit) pairs not in SCALE: left out, named at the end
    for path in paths:
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError as e:
            print(f"{path}: {e}")
            continue
        start = next((i for i, ln in enumerate(lines) if ln.startswith('"ID"')), None)
        if start is None:
            print(f"{path}: no ncu CSV table (last lines: {lines[-3:]})")
            continue
        for row in csv.DictReader(lines[start:]):
            unit = row.get("Metric Unit", "")
            if unit not in SCALE:
                unknown.add((row["Metric Name"], unit))
                continue
            try:
                value = float(row["Metric Value"].replace(",", "")) * SCALE[unit]
            except ValueError:
                continue
            key = (short_name(row["Kernel Name"]), row.get("Grid Size", ""))
            launches[key][row["Metric Name"]].append(value)
    if not launches:
        print("no launches")
        return 1
    print(f"{'spec (ConvSpec arguments)':70s} {'grid':>12s} {'n':>3s} " + " ".join(f"{h:>10s}" for _, h, _ in COLUMNS))
    for (name, grid), metrics in sorted(launches.items()):
        n = max(len(v) for v in metrics.values())
        cells = []
        for metric, _, div in COLUMNS:
            vals = metrics.get(metric)
            cells.append(f"{statistics.median(vals) / div:10.2f}" if vals else f"{'n/a':>10s}")
        print(f"{name:70s} {grid:>12s} {n:3d} " + " ".join(cells))
    for metric, unit in sorted(unknown):
        print(f"left out (unit {unit!r} not known to ncu_summary.SCALE): {metric}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
