"""Registers ``torch.ops.aiter_swa.causal_conv1d_fwd`` and ``torch.ops.aiter_swa.causal_conv1d_update``
(no ``aiter`` alias: AMD's aiter has no prefill op — SGLang's aiter backend falls back to Triton for
it, "aiter has no prefill equivalent" — and its own ``aiter.causal_conv1d_update(x, conv_state, weight,
bias, out, use_silu, cache_seqlens, conv_state_indices, pad_slot_id)`` has another signature, per
SGLang's ``python/sglang/srt/layers/attention/mamba/causal_conv1d_aiter.py``): schemas, CPU and CUDA
kernels, fake impls.

Source of the semantics: vLLM's ``vllm/model_executor/layers/mamba/ops/causal_conv1d.py``
(``causal_conv1d_fn`` and ``causal_conv1d_update``, vllm-project/vllm at commit 03c6dad8), itself
adapted from Tri Dao's causal-conv1d; SGLang's Triton ``causal_conv1d_fn`` is the same kernel with the
grid of sgl-project/sglang#10552 (the seed), whose signature is ``causal_conv1d_fn(x, weight, bias,
conv_states, query_start_loc, seq_lens_cpu: List[int], cache_indices=None, has_initial_state=None,
activation="silu", pad_slot_id=PAD_SLOT_ID)`` (here ``seq_lens_cpu`` comes last, keeping vLLM's order,
and is optional). Facts taken from vLLM: ``x`` is ``(dim, cu_seq_len)``,
sequences concatenated; ``weight`` ``(dim, width)``; ``conv_states`` ``(..., dim, width - 1)``, where
``conv_states[cache_indices[i]]`` is sequence i's initial state when ``has_initial_state[i]`` and is
then "shift-left and updated with values from x"; ``query_start_loc`` ``(batch + 1)`` int32, prepended
by 0; ``cache_indices`` entries equal to ``pad_slot_id`` are not processed (vLLM's ``PAD_SLOT_ID`` is
-1); ``activation`` None, ``"silu"`` or ``"swish"``; the update's ``x`` is ``[batch, dim]`` or
``[batch, dim, seqlen]`` against ``conv_state[conv_state_indices[b]]``.

causal_conv1d_fwd(Tensor(a!) out, Tensor x, Tensor weight, Tensor? bias, Tensor(b!) conv_states,
    Tensor query_start_loc, Tensor? cache_indices=None, Tensor? has_initial_state=None,
    str? activation="silu", int pad_slot_id=-1, int[]? seq_lens_cpu=None) -> ()

    For sequence ``s`` (tokens ``[query_start_loc[s], query_start_loc[s+1])`` of ``x``, length
    ``L``) with cache line ``l = cache_indices[s]`` (``s`` when None): ``ext = state ++ x[:, tokens]``
    with ``state = conv_states[l]`` if ``has_initial_state[s]`` else zeros (``[dim, width - 1]``);
    ``out[c, t_i] = act(bias[c] + sum_k weight[c, k] * ext[c, i + k])`` for ``i < L``; then
    ``conv_states[l] = ext[:, L:]`` (the last ``width - 1`` inputs, bit-exact copies). A sequence
    with ``cache_indices[s] == pad_slot_id`` or ``L == 0`` is skipped: its ``out`` columns and its
    cache line are not written; so are tokens past ``query_start_loc[-1]``. ``act``: identity or
    ``v * sigmoid(v)``.

    out: ``[dim, total_tokens]``, x's dtype and strides, not overlapping ``x``; written.
    x: ``[dim, total_tokens]``, float16, bfloat16 or float32. Channel-first (stride 1 along tokens)
        or channel-last (stride 1 along dim: ``t.transpose(0, 1)`` of a ``[total_tokens, dim]``
        tensor ``t``, the layout vLLM passes).
    weight: ``[dim, width]``, width 2, 3 or 4, x's dtype, any strides.
    bias: ``[dim]`` or None, x's dtype, contiguous.
    conv_states: ``[num_cache_lines, dim, width - 1]``, x's dtype, any strides; read and written.
    query_start_loc: int32 ``[num_seqs + 1]`` on x's device, non-decreasing, ``<= total_tokens``.
    cache_indices: int32 ``[num_seqs]`` or None (sequence s uses line s); lines must be distinct.
    has_initial_state: bool ``[num_seqs]`` or None (no sequence has one).
    activation: None / ``"none"``, ``"silu"`` or ``"swish"`` (= silu).
    pad_slot_id: int; a ``cache_indices`` entry equal to it skips the sequence.
    seq_lens_cpu: host list of the ``num_seqs`` lengths or None; checked against the shapes (GPU:
        length and sum <= total_tokens; CPU: equal to ``query_start_loc``'s differences). The GPU
        grid does not need it: it is ``spec.fwd_grid(total_tokens, dim, ...)`` from x's shape.

causal_conv1d_update(Tensor(a!) out, Tensor x, Tensor(b!) conv_state, Tensor weight, Tensor? bias=None,
    str? activation=None, Tensor? conv_state_indices=None, int pad_slot_id=-1) -> ()

    Row ``b`` of ``x`` (``[batch, dim]``: one token; ``[batch, dim, seqlen]``: ``seqlen`` tokens)
    continues line ``l = conv_state_indices[b]`` (``b`` when None): the forward's formula with the
    state always used as the initial state; ``conv_state[l]`` becomes the last ``width - 1`` inputs.
    Rows with ``l == pad_slot_id`` are skipped. ``out``: x's shape and dtype, any strides; may be
    ``x`` itself (in place).

Differences from vLLM: ``out`` is an argument (written; vLLM returns a new tensor); ``conv_states``'s
last dimension must be exactly ``width - 1`` (vLLM accepts more and uses the first ``width - 1``);
dtypes of x, weight, bias and states must agree (vLLM casts x to the state's dtype); no prefix-cache
(``block_idx_*``, ``initial_state_idx``), speculative-decoding rollback (``num_accepted_tokens``),
varlen update (``query_start_loc``) or EAGLE-tree arguments; a cache index outside the cache other
than ``pad_slot_id`` is a ValueError on the CPU and skips the sequence on the GPU (vLLM: undefined).

Raises:
    TypeError, ValueError: see ``call.validate_fwd`` / ``call.validate_update``; raised before
    anything is written.
"""

from __future__ import annotations

from aiter_swa._library import define_op, schema_of

from . import cpu, gpu
from .call import FwdCall, UpdateCall, check_fwd, check_update, validate_fwd, validate_update

FWD_NAME = "causal_conv1d_fwd"
UPDATE_NAME = "causal_conv1d_update"
FWD_SCHEMA = schema_of(FwdCall)
UPDATE_SCHEMA = schema_of(UpdateCall)


def causal_conv1d_fwd_cpu(*args) -> None:
    """CPU kernel of ``causal_conv1d_fwd``: validate, then the vectorized torch implementation."""
    cpu.run_fwd(validate_fwd(*args))


def causal_conv1d_fwd_cuda(*args) -> None:
    """CUDA (and ROCm) kernel of ``causal_conv1d_fwd``: validate, then the JIT-built kernel."""
    gpu.run_fwd(validate_fwd(*args))


def causal_conv1d_fwd_fake(*args) -> None:
    """Fake impl: the metadata checks, no compute."""
    check_fwd(FwdCall(*args))


def causal_conv1d_update_cpu(*args) -> None:
    """CPU kernel of ``causal_conv1d_update``."""
    cpu.run_update(validate_update(*args))


def causal_conv1d_update_cuda(*args) -> None:
    """CUDA (and ROCm) kernel of ``causal_conv1d_update``."""
    gpu.run_update(validate_update(*args))


def causal_conv1d_update_fake(*args) -> None:
    """Fake impl: the metadata checks, no compute."""
    check_update(UpdateCall(*args))


FWD_QUALNAMES = define_op(FWD_NAME, FWD_SCHEMA, cpu=causal_conv1d_fwd_cpu, cuda=causal_conv1d_fwd_cuda,
                          fake=causal_conv1d_fwd_fake)  # fmt: skip
UPDATE_QUALNAMES = define_op(UPDATE_NAME, UPDATE_SCHEMA, cpu=causal_conv1d_update_cpu, cuda=causal_conv1d_update_cuda,
                             fake=causal_conv1d_update_fake)  # fmt: skip
