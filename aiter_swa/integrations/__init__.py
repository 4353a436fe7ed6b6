"""Integrations of the library's ops into the frameworks that serve models.

``aiter_swa.integrations.transformers``: Hugging Face transformers' continuous batching
(``generate_batch``, ``ContinuousBatchingManager``) with its decode rows on
``torch.ops.aiter_swa.paged_attention_v1``. Each integration imports its framework only when it
is imported itself.
"""
