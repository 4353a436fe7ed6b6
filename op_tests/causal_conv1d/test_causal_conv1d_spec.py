"""The spec's tuning axes of causal_conv1d (spec.py), torch-free: names, validation, the pre-build
matrix, the grid mirror and the rendered source. Focus: ``walk`` (the walking forward kernel)."""

from __future__ import annotations

import pytest

from aiter_swa.jit.render import render
from aiter_swa.ops.causal_conv1d import spec as conv_spec
from aiter_swa.ops.causal_conv1d.spec import OP, CausalConv1dSpec

BASE = dict(dtype="bf16", width=4, activation="silu", arch="gfx942")


@pytest.mark.parametrize("layout", conv_spec.LAYOUTS)
def test_walk_default_off_and_named_only_when_on(layout):
    off = CausalConv1dSpec(layout=layout, **BASE)
    on = CausalConv1dSpec(layout=layout, walk=1, **BASE)
    assert conv_spec.WALK[0] == 0 and off.walk == 0
    assert "walk" not in off.name and on.name.endswith("_walk1_gfx942"), (off.name, on.name)
    assert on.to_json() != off.to_json()


@pytest.mark.parametrize("bad", [2, -1, True, "1"])
def test_walk_values_checked(bad):
    if bad is True:  # True == 1 in Python: accepted as 1, the same spec
        assert CausalConv1dSpec(layout="channel_first", walk=bad, **BASE).walk == 1
        return
    with pytest.raises(ValueError, match="walk"):
        CausalConv1dSpec(layout="channel_first", walk=bad, **BASE)


@pytest.mark.parametrize("layout,other", [("channel_first", {"cf_rows": 2}), ("channel_first", {"cf_fast": 0}),
                                          ("channel_first", {"cf_rows": 8}), ("channel_last", {"cl_run": 8})])  # fmt: skip
def test_walk_only_with_the_other_axes_at_their_defaults(layout, other):
    CausalConv1dSpec(layout=layout, **other, **BASE)  # valid alone
    with pytest.raises(ValueError, match="walk"):
        CausalConv1dSpec(layout=layout, walk=1, **other, **BASE)


def test_prebuild_matrix_keeps_walk_off_unless_asked():
    default = OP.matrix(["gfx942"])
    assert default and all(s.walk == 0 for s in default)
    asked = OP.matrix(["gfx942"], {"walk": [0, 1]})
    walkers = [s for s in asked if s.walk == 1]
    # every dtype x width x activation x layout, the other tuning axes at their defaults
    assert len(walkers) == len(conv_spec.DTYPES) * len(conv_spec.WIDTHS) * len(conv_spec.ACTIVATIONS) * len(conv_spec.LAYOUTS)
    assert all((s.cl_run, s.cf_rows, s.cf_fast) == (conv_spec.CL_RUNS[0], conv_spec.CF_ROWS[0], conv_spec.CF_FAST[0])
               for s in walkers)  # fmt: skip


@pytest.mark.parametrize("dtype", conv_spec.DTYPES)
@pytest.mark.parametrize("layout", conv_spec.LAYOUTS)
def test_walk_grid_covers_every_token_and_channel(dtype, layout):
    """spec.fwd_grid with walk=1: every token (channel-first: shifted back by up to vec - 1) and every
    channel lies in one workgroup's segment; a few waves at the benchmark's shape (the emulated tests
    check the kernel's own grid equals this one)."""
    vec = 16 // conv_spec.ELEMENT_BYTES[dtype]
    tile = conv_spec.tile_tokens(dtype, layout, walk=1)
    ch = conv_spec.channels_per_block(dtype, layout, walk=1)
    extra = vec - 1 if layout == "channel_first" else 0
    for total, dim in ((1, 8), (7171, 8192), (4096, 264), (4097 - extra, 16)):
        gx, gy = conv_spec.fwd_grid(total, dim, dtype, layout, walk=1)
        assert (gx - 1) * tile < total + extra <= gx * tile and (gy - 1) * ch < dim <= gy * ch, (total, dim, gx, gy)
    # the benchmark's long prefill on an H200 (132 SMs): more than two waves at 4 workgroups per SM
    gx, gy = conv_spec.fwd_grid(7171, 8192, "bf16", layout, walk=1)
    assert gx * gy > 2 * 132 * 4, (gx, gy)


@pytest.mark.parametrize("layout", conv_spec.LAYOUTS)
def test_walk_rendered_into_the_template(layout):
    on = render(CausalConv1dSpec(layout=layout, walk=1, **BASE))
    off = render(CausalConv1dSpec(layout=layout, **BASE))
    assert "/*WALK=*/true" in on and "fwd_kernel_walk<Spec>" in on
    assert "WALK" not in off and "fwd_kernel_walk" not in off and "fwd_kernel<Spec>" in off
