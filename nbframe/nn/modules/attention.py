"""``MultiheadAttention`` with PyTorch's parameters (``in_proj_weight``, ``out_proj``, ...), masks, shapes.

The computation is ``softmax(q k^T / sqrt(head_dim) + mask) v`` per head, with
``q, k, v`` the projected inputs split into ``num_heads`` heads. Masks follow
PyTorch: ``attn_mask`` is ``(L, S)`` or ``(N * num_heads, L, S)``,
``key_padding_mask`` is ``(N, S)``; a bool mask marks with True what may *not*
be attended to, a float mask is added to the scores. Internally the heads are laid
out ``(N, num_heads, L, head_dim)`` so that masks broadcast over them.
"""

from __future__ import annotations

import math

from ... import creation
from ...backend import get_array_module
from ...ops.linalg import matmul
from ...ops.nnops import Linear as _LinearOp
from ...ops.nnops import softmax
from ...ops.shape import cat
from ...tensor import Tensor, _wrap
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``: a ``Linear`` under PyTorch's class name (for the same repr)."""


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    return _LinearOp.apply(x, weight, bias)


def _float_mask(mask, name: str, dtype) -> Tensor | None:
    """A bool mask as ``0 / -inf`` in the NumPy ``dtype``; a float mask as it is; other dtypes refused."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, but got {type(mask).__name__}")
    kind = mask.array.dtype.kind
    if kind == "f":
        return mask
    if kind != "b":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    xp = get_array_module(mask.array)
    return _wrap(xp.where(mask.array, -math.inf, 0.0).astype(dtype), False, None, 0)


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask, attn_mask,
                  num_heads: int) -> bool:
    """PyTorch's shape rules for batched (3-D) and unbatched (2-D) input; True when batched."""
    dims = query.dim()
    if dims not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {dims}-D query tensor"
        )
    where = f"For {'batched' if dims == 3 else 'unbatched'} ({dims}-D) `query`"
    if key.dim() != dims or value.dim() != dims:
        raise AssertionError(
            f"{where}, expected `key` and `value` to be {dims}-D but found "
            f"{key.dim()}-D and {value.dim()}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.dim() != dims - 1:
        raise AssertionError(
            f"{where}, expected `key_padding_mask` to be `None` or {dims - 1}-D but found "
            f"{key_padding_mask.dim()}-D tensor instead"
        )
    if attn_mask is not None and attn_mask.dim() not in (2, 3):
        raise AssertionError(
            f"{where}, expected `attn_mask` to be `None`, 2-D or 3-D but found "
            f"{attn_mask.dim()}-D tensor instead"
        )
    return dims == 3


class MultiheadAttention(Module):
    """Attention over ``num_heads`` subspaces of ``embed_dim`` (``kdim``/``vdim``: other key/value sizes)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        def empty(*shape) -> Parameter:
            return Parameter(creation.empty(*shape, device=device, dtype=dtype))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``(attn_output, attn_weights)``; the weights are None unless ``need_weights``."""
        batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                "`generate_square_subsequent_mask` to create this mask."
            )
        self_attention, shared_kv = query is key and key is value, key is value
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        batch, tgt_len, embed_dim = query.shape
        if embed_dim != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {embed_dim}"
            )
        if self._qkv_same_embed_dim and tuple(key.shape) != tuple(value.shape):
            raise AssertionError(
                f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                f"{tuple(value.shape[:2])}"
            )
        q, k, v = self._project(query, key, value, self_attention, shared_kv)
        mask = self._merged_mask(attn_mask, key_padding_mask, is_causal and key_padding_mask is None
                                 and not need_weights, batch, tgt_len, key.shape[1], q)
        if self.bias_k is not None and self.bias_v is not None:
            k = cat([k, self.bias_k.expand(batch, 1, self.embed_dim)], 1)
            v = cat([v, self.bias_v.expand(batch, 1, self.embed_dim)], 1)
            mask = None if mask is None else F.pad(mask, (0, 1))
        heads, head_dim = self.num_heads, self.head_dim
        q = q.reshape(batch, tgt_len, heads, head_dim).permute(0, 2, 1, 3)
        k = k.reshape(batch, k.shape[1], heads, head_dim).permute(0, 2, 1, 3)
        v = v.reshape(batch, v.shape[1], heads, head_dim).permute(0, 2, 1, 3)
        if self.add_zero_attn:
            zeros = q.new_zeros((batch, heads, 1, head_dim))
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            mask = None if mask is None else F.pad(mask, (0, 1))
        scores = matmul(q * (1.0 / math.sqrt(head_dim)), k.transpose(-2, -1))
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout, True)
        out = matmul(weights, v).permute(0, 2, 1, 3).reshape(batch, tgt_len, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (weights if batched else weights.squeeze(0))

    def _project(self, query: Tensor, key: Tensor, value: Tensor, self_attention: bool, shared_kv: bool):
        """``q, k, v`` of shapes ``(N, L or S, embed_dim)``; one GEMM for self-attention."""
        e = self.embed_dim
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if not self._qkv_same_embed_dim:
            return (_linear(query, self.q_proj_weight, b_q), _linear(key, self.k_proj_weight, b_k),
                    _linear(value, self.v_proj_weight, b_v))
        w = self.in_proj_weight
        if self_attention:
            return _linear(query, w, b).chunk(3, -1)
        q = _linear(query, w[:e], b_q)
        if shared_kv:
            k, v = _linear(key, w[e:], None if b is None else b[e:]).chunk(2, -1)
            return q, k, v
        return q, _linear(key, w[e:2 * e], b_k), _linear(value, w[2 * e:], b_v)

    def _merged_mask(self, attn_mask, key_padding_mask, causal: bool, batch: int, tgt_len: int,
                     src_len: int, like: Tensor) -> Tensor | None:
        """One additive mask, broadcastable to the scores ``(N, num_heads, L, S)``, or None."""
        dtype = like.array.dtype
        key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
        if causal:
            # PyTorch's reading of the hint: attend causally, whatever attn_mask holds.
            xp = get_array_module(like.array)
            keep = xp.tril(xp.ones((tgt_len, src_len), dtype=bool))
            attn_mask = _wrap(xp.where(keep, 0.0, -math.inf).astype(dtype), False, None, 0)
        attn_mask = _float_mask(attn_mask, "attn_mask", dtype)
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (tgt_len, src_len):
                    raise RuntimeError(
                        f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                        f"{(tgt_len, src_len)}."
                    )
                attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len)
            else:
                expected = (batch * self.num_heads, tgt_len, src_len)
                if tuple(attn_mask.shape) != expected:
                    raise RuntimeError(
                        f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                        f"{expected}."
                    )
                attn_mask = attn_mask.reshape(batch, self.num_heads, tgt_len, src_len)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (batch, src_len):
                raise AssertionError(
                    f"expecting key_padding_mask shape of {(batch, src_len)}, but got "
                    f"{tuple(key_padding_mask.shape)}"
                )
            key_padding_mask = key_padding_mask.reshape(batch, 1, 1, src_len)
            return key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
        return attn_mask
