"""The package version, in one torch-free place that the JIT (and its install-time pre-build) can read.

It is part of every cache key and is recorded in pre-built manifests.
"""

__version__ = "0.2.0"
