"""Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX files, gzip-compressed).

Images become float32 pixel/255 in [0, 1] with shape [N, 1, 28, 28]; labels become int64 [N].
This is the only preprocessing: no mean/std normalisation, no augmentation, so a consumer of the
shipped ONNX models feeds them exactly pixel/255.
"""
import gzip
import os
import struct
import sys

from deps import require

np = require("numpy")

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read_idx(path, expected_magic):
    if not os.path.exists(path):
        sys.exit(f"{path}: not found; install Debian's dataset-fashion-mnist "
                 "(`scripts/install-deps --training`) or set FASHION_MNIST_DIR")
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        sys.exit(f"{path}: IDX magic {magic:#x}, expected {expected_magic:#x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(dims)):
        sys.exit(f"{path}: {array.size} bytes of data, header says {dims}")
    return array.reshape(dims)


def load(split):
    """Returns (images float32 [N,1,28,28] in [0,1], labels int64 [N]) for split 'train' or 't10k'."""
    images = _read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"), 0x00000803)
    labels = _read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"), 0x00000801)
    if images.shape[0] != labels.shape[0]:
        sys.exit(f"{DATA_DIR}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
    x = (images.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)
    return x, labels.astype(np.int64)
