"""Minimal safetensors reader/writer for tempest's tools.

There is no safetensors package on Debian, and the format is small: an 8-byte
little-endian header length, a JSON header (name -> dtype, shape, data_offsets,
plus an optional "__metadata__" map of strings), then the raw tensor bytes.
Metadata values must be strings in the format, so the vocabulary is stored as a
JSON list encoded into a string.
"""
import json
import struct

import torch

_DTYPES = {
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
}


def save(path, tensors, metadata=None):
    """Write a dict of name -> tensor (F32, F16 or BF16) with string metadata."""
    header = {}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        t = tensor.detach().contiguous().cpu()
        if t.dtype not in _DTYPES:
            t = t.float()
        dtype, _ = _DTYPES[t.dtype]
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 \
            else t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)   # keep tensor data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load(path):
    """Return (dict name -> float32 tensor, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        raw = bytearray(data[base + a:base + b])
        dtype = {"F32": torch.float32, "F16": torch.float16,
                 "BF16": torch.bfloat16}[info["dtype"]]
        t = torch.frombuffer(raw, dtype=torch.uint8).view(dtype) if raw else \
            torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).float()
    return out, meta


def vocab_of(meta):
    """The vocabulary list stored in a model's metadata."""
    v = meta.get("vocab")
    return json.loads(v) if isinstance(v, str) else list(v)
