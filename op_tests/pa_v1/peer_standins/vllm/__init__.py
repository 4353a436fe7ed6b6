"""Stand-in package (aiter_swa benchmark): only what vLLM's triton_unified_attention.py imports (README.md above)."""
