#!/usr/bin/python3
"""Writes the small ONNX models and .npy files the C++ tests and the fuzzers' seed corpora use.

Run with Debian's python3 (python3-onnx, python3-numpy) from the repository root:
    /usr/bin/python3 tests/data/make_models.py
The outputs are committed; the C++ build and tests never run Python. Weights are chosen by
hand so that fpaudit inspect has something to count: values that overflow binary16, vanish in
it, or become subnormal."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(ROOT, "models")
CORPUS = os.path.join(ROOT, "..", "fuzz", "corpus")


def model(nodes, inputs, outputs, initializers=(), opset=13, name="test"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="fpaudit-tests")
    m.ir_version = 8
    return m


def tiny_cnn():
    """image [N,1,8,8] → conv1 → relu1 → pool1 → exporter-style flatten → fc → softmax."""
    w = (np.arange(18, dtype=np.float32) - 9) / 16  # exact binary16 values
    w[0], w[1], w[2], w[3] = 70000.0, 1e-8, 1e-5, 0.001  # overflow, vanish, subnormal in binary16
    fc = ((np.arange(72, dtype=np.float32) % 13) - 6) / 8
    fc[5] = 500.0  # beyond E4M3's 448 only
    inits = [
        numpy_helper.from_array(w.reshape(2, 1, 3, 3), "conv1.weight"),
        numpy_helper.from_array(np.array([0.5, -0.5], dtype=np.float32), "conv1.bias"),
        numpy_helper.from_array(fc.reshape(4, 18), "fc.weight"),
        numpy_helper.from_array(np.array([0.0, 0.25, -0.25, 1.0], dtype=np.float32), "fc.bias"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus_one"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", pads=[0, 0, 0, 0]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["p1"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axis0"], ["batch1"], name="batch1"),
        helper.make_node("Concat", ["batch1", "minus_one"], ["target"], name="target", axis=0),
        helper.make_node("Reshape", ["p1", "target"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])]
    outputs = [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 4])]
    return model(nodes, inputs, outputs, inits)


def fcn_symbolic():
    """image [N,3,H,W] (batch and spatial size symbolic) → conv 3x3 pad 1 → relu → maxpool 2x2 →
    global average pool → flatten: a fully convolutional net for `fpaudit inspect` without shapes."""
    w = ((np.arange(4 * 3 * 3 * 3, dtype=np.float32) % 7) - 3) / 8
    inits = [numpy_helper.from_array(w.reshape(4, 3, 3, 3), "conv.weight")]
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["features"], name="flatten"),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])]
    outputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 4])]
    return model(nodes, inputs, outputs, inits)


def opset9_mlp():
    """Attribute forms of opset 9: Unsqueeze/Squeeze axes, Slice starts/ends, Clip min/max, Upsample-free."""
    inits = [numpy_helper.from_array(np.full((3, 5), 0.5, dtype=np.float32), "w")]
    nodes = [
        helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0]),
        helper.make_node("Squeeze", ["u"], ["s"], axes=[0]),
        helper.make_node("Slice", ["s"], ["sl"], starts=[0], ends=[3], axes=[1]),
        helper.make_node("MatMul", ["sl", "w"], ["m"]),
        helper.make_node("Clip", ["m"], ["c"], min=-1.0, max=1.0),
        helper.make_node("Dropout", ["c"], ["y"], ratio=0.5),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])]
    return model(nodes, inputs, outputs, inits, opset=9)


def opset17_block():
    """A transformer-like block: LayerNormalization, MatMul, Transpose, Softmax, Split, Gelu-free Erf."""
    inits = [
        numpy_helper.from_array(np.ones(8, dtype=np.float16), "ln.scale"),
        numpy_helper.from_array(np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8), "qk"),
        numpy_helper.from_array(np.array([4, 4], dtype=np.int64), "halves"),
        numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two"),
    ]
    nodes = [
        helper.make_node("Cast", ["x"], ["x16"], to=TensorProto.FLOAT16),
        helper.make_node("LayerNormalization", ["x16", "ln.scale"], ["n16"], axis=-1),
        helper.make_node("Cast", ["n16"], ["n"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["n", "qk"], ["q"]),
        helper.make_node("Split", ["q", "halves"], ["a", "b"], axis=-1),
        helper.make_node("Transpose", ["b"], ["bt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["a", "bt"], ["scores"]),
        helper.make_node("Div", ["scores", "two"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["attn"], axis=-1),
        helper.make_node("Erf", ["attn"], ["y"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "T", 8])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "T", "T"])]
    return model(nodes, inputs, outputs, inits, opset=17)


def upsampler():
    """Constant nodes, Resize with scales, ConvTranspose, BatchNormalization, GlobalAveragePool."""
    c = np.arange(4, dtype=np.float32) / 4
    inits = [
        numpy_helper.from_array(np.full((2, 3, 2, 2), 0.25, dtype=np.float32), "deconv.w"),
        numpy_helper.from_array(np.ones(3, dtype=np.float32), "bn.s"),
        numpy_helper.from_array(np.zeros(3, dtype=np.float32), "bn.b"),
        numpy_helper.from_array(c[:3], "bn.m"),
        numpy_helper.from_array(np.ones(3, dtype=np.float32) * 2, "bn.v"),
    ]
    nodes = [
        helper.make_node("Constant", [], ["scales"], value=numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32))),
        helper.make_node("Resize", ["x", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("ConvTranspose", ["up", "deconv.w"], ["d"], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["d", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"]),
        helper.make_node("GlobalAveragePool", ["bn"], ["y"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 3])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 1, 1])]
    return model(nodes, inputs, outputs, inits)


def broken_models(cnn):
    """Malformed variants: each must be refused with a ModelError."""
    out = {}
    data = cnn.SerializeToString()
    out["truncated"] = data[: len(data) // 2]
    cyclic = model([helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                   [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])])
    out["cyclic"] = cyclic.SerializeToString()
    lstm = model([helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="rnn")],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    out["unsupported_op"] = lstm.SerializeToString()
    old = model([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], opset=8)
    out["opset8"] = old.SerializeToString()
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], b"\0" * 16, raw=True)
    w.raw_data = b"\0" * 12  # 3 floats for 4 dims
    short = model([helper.make_node("Add", ["x", "w"], ["y"])], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    out["short_raw_data"] = short.SerializeToString()
    return out


def npy_seeds():
    import io
    seeds = {}
    for name, array in [
        ("f32_2x3", np.arange(6, dtype=np.float32).reshape(2, 3) / 3),
        ("f16_scalar", np.array(0.1, dtype=np.float16)),
        ("f64_empty", np.zeros((0, 4), dtype=np.float64)),
        ("i64", np.array([-1, 2**62], dtype=np.int64)),
        ("i32", np.array([[1, -2]], dtype=np.int32)),
        ("u8", np.array([0, 255], dtype=np.uint8)),
        ("i8", np.array([-128, 127], dtype=np.int8)),
        ("bool", np.array([True, False, True])),
        ("big_endian", np.arange(3, dtype=">f4")),
        ("fortran", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))),
    ]:
        buf = io.BytesIO()
        np.save(buf, array)
        seeds[name] = buf.getvalue()
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.arange(4, dtype=np.float32), version=(2, 0))
    seeds["version2"] = buf.getvalue()
    seeds["truncated"] = seeds["f32_2x3"][:-5]
    return seeds


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    cnn = tiny_cnn()
    onnx.checker.check_model(cnn)
    write(os.path.join(MODELS, "tiny_cnn.onnx"), cnn.SerializeToString())
    write(os.path.join(MODELS, "truncated.onnx"), cnn.SerializeToString()[:300])
    fcn = fcn_symbolic()
    onnx.checker.check_model(fcn)
    write(os.path.join(MODELS, "fcn_symbolic.onnx"), fcn.SerializeToString())
    valid = {"tiny_cnn": cnn, "opset9_mlp": opset9_mlp(), "opset17_block": opset17_block(), "upsampler": upsampler()}
    for name, m in valid.items():
        onnx.checker.check_model(m)
        write(os.path.join(CORPUS, "onnx", name + ".onnx"), m.SerializeToString())
    for name, data in broken_models(cnn).items():
        write(os.path.join(CORPUS, "onnx", "broken_" + name + ".onnx"), data)
    for name, data in npy_seeds().items():
        write(os.path.join(CORPUS, "npy", name + ".npy"), data)


if __name__ == "__main__":
    main()
