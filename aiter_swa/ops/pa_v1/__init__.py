"""``paged_attention_v1``: paged-attention decode with an optional sliding window.

Modules (one job each): ``spec`` (torch-free: supported configurations, the kernel spec and its
matrix, the launch contract), ``workspace`` (partitions and split-K workspace), ``call``
(the op's arguments, once, and their validation), ``cpu`` and ``gpu`` (the two implementations),
``op`` (torch registration), ``api`` (a convenience wrapper), ``reference`` (the float64 test
reference). This ``__init__`` imports nothing, so the torch-free ``spec`` can be imported alone.
"""
