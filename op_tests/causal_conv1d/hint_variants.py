"""Rewrites causal_conv1d's 16-byte accesses (csrc/include/aiter_swa/causal_conv1d/kernel.h: load16,
store16) in place with PTX cache hints, for an A/B run on the GPU machine (op_tests/gpu_calls/gpu_call_2026-11-29q.sh);
never run on a checkout you commit from. The JIT's cache key hashes the headers, so each rewrite builds
its own kernels.

    python3 op_tests/causal_conv1d/hint_variants.py st_cs      # stores: st.global.cs (evict-first)
    python3 op_tests/causal_conv1d/hint_variants.py ld_256     # loads: ld.global.L2::256B (prefetch hint)

Sources: PTX ISA, "Data Movement and Conversion Instructions: st" (.cs: cache streaming, likely accessed
once) and "ld" (.L2::256B: the L2 may prefetch a 256-byte block)."""
import pathlib
import sys

KERNEL = pathlib.Path(__file__).resolve().parents[2] / "csrc/include/aiter_swa/causal_conv1d/kernel.h"
STORE = "  *reinterpret_cast<uint4*>(p) = v;\n}"
LOAD = "  return *reinterpret_cast<const uint4*>(p);\n}"
VARIANTS = {
    "st_cs": (STORE, """#if defined(AITER_SWA_CUDA)
  asm volatile("st.global.cs.v4.u32 [%0], {%1, %2, %3, %4};" ::"l"(p), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w)
               : "memory");
#else
  *reinterpret_cast<uint4*>(p) = v;
#endif
}"""),
    "ld_256": (LOAD, """#if defined(AITER_SWA_CUDA)
  uint4 v;
  asm volatile("ld.global.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
#else
  return *reinterpret_cast<const uint4*>(p);
#endif
}"""),
}

if __name__ == "__main__":
    text = KERNEL.read_text()
    for name in sys.argv[1:]:
        old, new = VARIANTS[name]
        if text.count(old) != 1:
            sys.exit(f"hint_variants: {name}: the access to rewrite is not in {KERNEL} exactly once")
        text = text.replace(old, new)
    KERNEL.write_text(text)
    print("hint_variants: applied", " ".join(sys.argv[1:]))
