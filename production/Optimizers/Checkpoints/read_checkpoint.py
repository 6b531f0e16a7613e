"""Reads an Optimizers.HomeAdam checkpoint (a safetensors file) with numpy alone and verifies its checksum.

Usage: python3 read_checkpoint.py FILE            lists the metadata and every tensor
       python3 read_checkpoint.py FILE TENSOR     prints that tensor's values as JSON (float64, exact)
The checksum rule is documented on Checkpoint (Checkpoint.cs)."""
import hashlib, json, struct, sys
import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "BF16": "<u2"}

def read_checkpoint(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta, data = header.pop("__metadata__", {}), blob[8 + n:]
    entries = sorted(header.items(), key=lambda kv: (kv[1]["data_offsets"], kv[0].encode()))
    h = hashlib.sha256()
    fields = [f for k in sorted(meta) if k != "checksum" for f in (k, meta[k])]
    fields += [f for name, e in entries for f in (name, e["dtype"], ",".join(map(str, e["shape"])), *map(str, e["data_offsets"]))]
    h.update(b"".join(f.encode("utf-8") + b"\0" for f in fields) + data)
    if meta.get("checksum") != "sha256:" + h.hexdigest():
        raise ValueError(f"{path}: checksum mismatch, the file is corrupted")
    tensors = {}
    for name, e in entries:
        begin, end = e["data_offsets"]
        a = np.frombuffer(data, dtype=DTYPES[e["dtype"]], count=(end - begin) // np.dtype(DTYPES[e["dtype"]]).itemsize, offset=begin)
        if e["dtype"] == "BF16":  # bfloat16 is the upper half of a float32
            a = (a.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = a.reshape(e["shape"])
    return tensors, meta

if __name__ == "__main__":
    tensors, meta = read_checkpoint(sys.argv[1])
    if len(sys.argv) > 2:
        print(json.dumps(np.asarray(tensors[sys.argv[2]], dtype=np.float64).ravel().tolist()))
    else:
        for k, v in sorted(meta.items()): print(f"{k} = {v}")
        for name, a in tensors.items(): print(f"{name}: {a.dtype} {list(a.shape)}")
