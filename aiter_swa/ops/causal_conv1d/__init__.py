"""``causal_conv1d_fwd`` / ``causal_conv1d_update``: varlen causal depthwise conv1d with a per-sequence state.

Modules: ``spec`` (torch-free: supported configurations, the kernel spec and its matrix, the two
launch contracts), ``call`` (the ops' arguments, once, and their validation), ``cpu`` and ``gpu``
(the two implementations), ``op`` (torch registration), ``reference`` (the float64 test reference).
This ``__init__`` imports nothing, so the torch-free ``spec`` can be imported alone.
"""
