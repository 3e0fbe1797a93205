#!/usr/bin/python3
"""Safetensors interoperability between PyTorch and Sparkgrad, checked both ways.

Run with Debian's interpreter, which has python3-torch (1.13) and numpy; no
`safetensors` package is needed: the format is read and written here by hand,
so the check does not lean on a third implementation.

    /usr/bin/python3 scripts/safetensors_interop.py write-fixture

        Rewrites the committed test resources
          engine/src/test/resources/interop/torch_tensors.safetensors
          engine/src/test/resources/interop/torch_tensors.expected.json
        The first is a file of named torch tensors written the way PyTorch's
        safetensors writer lays it out; the second lists, for each tensor, its
        dtype, shape and the exact bit pattern of every value, which
        SafeTensorsInteropTest compares with what Sparkgrad reads. The output is
        deterministic (one manual_seed), so rerunning changes nothing unless the
        tensors below change.

    /usr/bin/python3 scripts/safetensors_interop.py verify FILE

        Checks a file Sparkgrad wrote: it must hold every tensor of the fixture,
        bit for bit, plus the tensors Sparkgrad builds itself (SPARKGRAD_TENSORS
        below), and the metadata Sparkgrad writes. Exit status 0 and a line
        starting "OK" when all match. To produce FILE by hand:

            cd engine && mvn test -Dtest=SafeTensorsInteropTest
            /usr/bin/python3 ../scripts/safetensors_interop.py verify \
                target/interop/sparkgrad_written.safetensors

        SafeTensorsInteropTest runs this step itself when /usr/bin/python3 can
        import torch, and says it skipped it otherwise.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP_DIR = os.path.join(HERE, "..", "engine", "src", "test", "resources", "interop")
FIXTURE = os.path.join(INTEROP_DIR, "torch_tensors.safetensors")
EXPECTED = os.path.join(INTEROP_DIR, "torch_tensors.expected.json")

# safetensors code <-> (torch dtype, little-endian numpy dtype, numpy dtype of the same width for bits)
CODES = {
    "F32": (torch.float32, np.dtype("<f4"), np.dtype("<i4")),
    "F64": (torch.float64, np.dtype("<f8"), np.dtype("<i8")),
    "I64": (torch.int64, np.dtype("<i8"), np.dtype("<i8")),
}
CODE_OF = {torch_dtype: code for code, (torch_dtype, _, _) in CODES.items()}
MAX_HEADER = 100_000_000


def fixture_tensors():
    """The named tensors PyTorch writes: every dtype Sparkgrad reads, ranks 0 to 5, empty
    shapes, a non-contiguous view, and the float values that are easy to get wrong."""
    torch.manual_seed(SEED)
    t = {}
    t["fc1.weight"] = torch.randn(4, 3)
    t["fc1.bias"] = torch.randn(4)
    t["scalar_f32"] = torch.tensor(3.5)
    t["empty_f32"] = torch.empty(0, 3)
    t["arange_f32"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    t["transposed_f32"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    t["special_f32"] = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0,
                                     1e-45, 3.4028234663852886e38, 1.1754943508222875e-38, 0.1])
    t["weights_f64"] = torch.randn(2, 2, 2, 2, dtype=torch.float64)
    t["rank5_f64"] = torch.randn(1, 2, 1, 3, 2, dtype=torch.float64)
    t["special_f64"] = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0,
                                     5e-324, 1.7976931348623157e308, 0.1], dtype=torch.float64)
    t["labels_i64"] = torch.tensor([0, 9, -1, 2**63 - 1, -2**63, 2**40], dtype=torch.int64)
    t["scalar_i64"] = torch.tensor(42)
    t["empty_i64"] = torch.zeros(2, 0, dtype=torch.int64)
    return t


def fixture_metadata():
    return {"format": "pt", "producer": "scripts/safetensors_interop.py"}


def sparkgrad_tensors():
    """What SafeTensorsInteropTest builds in Java and adds to the fixture's tensors; kept in
    step with that test by hand."""
    return {
        "sparkgrad.transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),
        "sparkgrad.eighths_f64": (torch.arange(10, dtype=torch.float64) / 8).reshape(2, 5),
        "sparkgrad.odd_i64": torch.arange(10, dtype=torch.int64)[1:9:2],
        "sparkgrad.scalar_f64": torch.tensor(-1.25, dtype=torch.float64),
    }


SPARKGRAD_METADATA = {"format": "pt", "producer": "sparkgrad"}


# ---------------------------------------------------------------------- the format, by hand

def encode(tensors, metadata):
    """The bytes of a safetensors file, laid out as the reference writer does: metadata first,
    tensors in the given order with contiguous offsets, header padded with spaces to 8 bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        code = CODE_OF[tensor.dtype]
        data = tensor.contiguous().numpy().astype(CODES[code][1], copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


class FormatError(Exception):
    pass


def decode(blob, source):
    """(tensors in header order, metadata, header length) of a safetensors file, checking
    every length and offset as a careful reader must."""
    if len(blob) < 8:
        raise FormatError(f"{source}: {len(blob)} bytes, too short for the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise FormatError(f"{source}: header length {n} does not fit a {len(blob)}-byte file")
    header = json.loads(blob[8:8 + n].decode("utf-8"),
                        object_pairs_hook=lambda pairs: _no_duplicates(pairs, source))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    spans = []
    for name, entry in header.items():
        if set(entry) != {"dtype", "shape", "data_offsets"}:
            raise FormatError(f"{source}: tensor {name!r}: fields {sorted(entry)}")
        if entry["dtype"] not in CODES:
            raise FormatError(f"{source}: tensor {name!r}: dtype {entry['dtype']!r}")
        torch_dtype, np_dtype, _ = CODES[entry["dtype"]]
        shape = entry["shape"]
        begin, end = entry["data_offsets"]
        if any(d < 0 for d in shape) or not 0 <= begin <= end <= len(data):
            raise FormatError(f"{source}: tensor {name!r}: shape {shape} offsets {[begin, end]}")
        numel = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != numel * np_dtype.itemsize:
            raise FormatError(f"{source}: tensor {name!r}: {end - begin} bytes for shape {shape}")
        array = np.frombuffer(data, dtype=np_dtype, count=numel, offset=begin).reshape(shape)
        tensors[name] = torch.from_numpy(array.astype(np_dtype.newbyteorder("="))).to(torch_dtype)
        if end > begin:
            spans.append((begin, end, name))
    spans.sort()
    for (b0, e0, a), (b1, e1, b) in zip(spans, spans[1:]):
        if b1 < e0:
            raise FormatError(f"{source}: tensors {a!r} and {b!r} overlap")
    if spans and spans[-1][1] != len(data) or not spans and len(data) != 0:
        raise FormatError(f"{source}: the data section has {len(data)} bytes, the tensors end elsewhere")
    return tensors, metadata, n


def _no_duplicates(pairs, source):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise FormatError(f"{source}: duplicate names in {keys}")
    return dict(pairs)


def bits(tensor):
    """Every value's bit pattern as Python ints (signed, as Java's raw bits are)."""
    code = CODE_OF[tensor.dtype]
    return tensor.contiguous().numpy().astype(CODES[code][1]).view(CODES[code][2]).reshape(-1).tolist()


def same_bits(a, b):
    return a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape) and bits(a) == bits(b)


# ---------------------------------------------------------------------- commands

def write_fixture():
    tensors = fixture_tensors()
    blob = encode(tensors, fixture_metadata())
    back, metadata, _ = decode(blob, "freshly encoded fixture")
    assert list(back) == list(tensors) and metadata == fixture_metadata()
    for name, tensor in tensors.items():
        assert same_bits(tensor, back[name]), name
    os.makedirs(INTEROP_DIR, exist_ok=True)
    with open(FIXTURE, "wb") as f:
        f.write(blob)
    expected = {
        "torch_version": torch.__version__,
        "metadata": fixture_metadata(),
        "tensors": [{"name": name, "dtype": CODE_OF[t.dtype], "shape": list(t.shape), "bits": bits(t)}
                    for name, t in tensors.items()],
    }
    with open(EXPECTED, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(FIXTURE)} ({len(blob)} bytes, {len(tensors)} tensors) and "
          f"{os.path.relpath(EXPECTED)}")


def verify(path):
    with open(path, "rb") as f:
        blob = f.read()
    try:
        tensors, metadata, header_length = decode(blob, path)
    except (FormatError, ValueError, KeyError, TypeError) as e:
        print(f"FAIL: {path} is not a valid safetensors file: {e}")
        return 1
    problems = []
    if header_length % 8 != 0:
        problems.append(f"header length {header_length} is not padded to a multiple of 8")
    if metadata != SPARKGRAD_METADATA:
        problems.append(f"metadata {metadata} != {SPARKGRAD_METADATA}")
    with open(FIXTURE, "rb") as f:
        fixture, _, _ = decode(f.read(), FIXTURE)
    wanted = dict(fixture)
    wanted.update(sparkgrad_tensors())
    for name, tensor in wanted.items():
        if name not in tensors:
            problems.append(f"missing tensor {name!r}")
        elif not same_bits(tensor.contiguous(), tensors[name]):
            got = tensors[name]
            problems.append(f"tensor {name!r}: expected {tensor.dtype} {list(tensor.shape)} {tensor.reshape(-1).tolist()}, "
                            f"got {got.dtype} {list(got.shape)} {got.reshape(-1).tolist()}")
    for name in tensors:
        if name not in wanted:
            problems.append(f"unexpected tensor {name!r}")
    if problems:
        print(f"FAIL: {path}:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"OK: {len(wanted)} tensors in {path} match PyTorch bit for bit (torch {torch.__version__})")
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "write-fixture":
        write_fixture()
        return 0
    if len(argv) == 3 and argv[1] == "verify":
        return verify(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
