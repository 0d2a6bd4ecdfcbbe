#!/usr/bin/python3
"""Checks the shipped files in data/ without retraining (a few seconds):

  - each model passes onnx.checker, uses only fpaudit's operators, has input `input` [N,1,28,28]
    and output `logits` [N,10], and its operator counts match data/models.json;
  - the numpy float64 interpreter, run on the exported graph, reproduces data/<model>_logits8.npy
    (PyTorch fp32 logits of data/sample_images.npy) to 1e-4 and gives the same argmax;
  - the image and label files have the shapes and dtypes data/README.md promises, and the sample
    images are the first 8 test-subset images.

    /usr/bin/python3 tools/train/verify_data.py [--data DIR]
"""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deps import require  # noqa: E402

np = require("numpy")
import onnx_numpy  # noqa: E402
from train_all import REPO, SAMPLES, SUBSET, check_graph  # noqa: E402


def fail(msg):
    sys.exit(f"verify_data: {msg}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "data"))
    args = ap.parse_args()
    d = args.data

    images = np.load(os.path.join(d, "test_images.npy"))
    labels = np.load(os.path.join(d, "test_labels.npy"))
    samples = np.load(os.path.join(d, "sample_images.npy"))
    if images.dtype != np.float32 or images.shape != (SUBSET, 1, 28, 28):
        fail(f"test_images.npy is {images.dtype} {images.shape}")
    if labels.dtype != np.int64 or labels.shape != (SUBSET,) or labels.min() < 0 or labels.max() > 9:
        fail(f"test_labels.npy is {labels.dtype} {labels.shape}")
    if not np.array_equal(samples, images[:SAMPLES]):
        fail("sample_images.npy is not the first 8 images of test_images.npy")
    if images.min() < 0 or images.max() > 1:
        fail("test images outside [0, 1]")

    with open(os.path.join(d, "models.json")) as f:
        info = json.load(f)
    for name, entry in info["models"].items():
        model = check_graph(os.path.join(d, entry["file"]))
        ops = dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))
        if ops != entry["operators"]:
            fail(f"{entry['file']}: operators {ops}, models.json says {entry['operators']}")
        expected = np.load(os.path.join(d, f"{name}_logits8.npy"))
        got = onnx_numpy.run(model, samples)[0]
        diff = float(np.abs(got - expected).max())
        if expected.dtype != np.float32 or expected.shape != (SAMPLES, 10) or diff > 1e-4 \
                or not np.array_equal(got.argmax(1), expected.argmax(1)):
            fail(f"{name}: numpy evaluation differs from {name}_logits8.npy by {diff:.3g}")
        print(f"{name}: ok ({sum(ops.values())} nodes, max |logit diff| vs PyTorch {diff:.2e})")
    print("verify_data: all files consistent")


if __name__ == "__main__":
    main()
