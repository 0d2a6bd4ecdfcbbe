"""A tiny ONNX interpreter in numpy (float64), just big enough for the three shipped models.

It is the independent check that an exported graph computes what the PyTorch module computes:
it reads only the ONNX file, follows the ONNX operator specification, and shares no code with
torch. It is a test oracle for the training scripts, not part of fpaudit.
"""
import math

from deps import require

np, onnx = require("numpy", "onnx")
from onnx import numpy_helper  # noqa: E402  (after the friendly import check)

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _windows(x, kernel, strides, pads, pad_value):
    """[N,C,H,W] -> [N,C,Ho,Wo,kh,kw] views of the padded input (pads = top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=pad_value)
    w = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return w[:, :, ::strides[0], ::strides[1]]


def _conv(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv with groups or dilations")
    kernel = tuple(w.shape[2:])
    win = _windows(x, kernel, a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), 0.0)
    y = np.einsum("nchwij,ocij->nohw", win, w, optimize=True)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _maxpool(x, a):
    if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("MaxPool with ceil_mode or dilations")
    kernel = tuple(a["kernel_shape"])
    win = _windows(x, kernel, a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), -np.inf)
    return win.max(axis=(4, 5))


def _averagepool(x, a):
    if a.get("ceil_mode", 0):
        raise NotImplementedError("AveragePool with ceil_mode")
    kernel, strides = tuple(a["kernel_shape"]), a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    total = _windows(x, kernel, strides, pads, 0.0).sum(axis=(4, 5))
    if a.get("count_include_pad", 0):
        return total / (kernel[0] * kernel[1])
    count = _windows(np.ones((1, 1) + x.shape[2:]), kernel, strides, pads, 0.0).sum(axis=(4, 5))
    return total / count


def _gemm(A, B, C, a):
    A = A.T if a.get("transA", 0) else A
    B = B.T if a.get("transB", 0) else B
    y = a.get("alpha", 1.0) * (A @ B)
    return y if C is None else y + a.get("beta", 1.0) * C


def _reshape(x, shape):
    shape = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape)]  # allowzero = 0
    return x.reshape(shape)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _batchnorm(x, scale, bias, mean, var, a):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = 1.0 / np.sqrt(var + a.get("epsilon", 1e-5))
    return (x - mean.reshape(shape)) * (scale * inv).reshape(shape) + bias.reshape(shape)


def _run_node(op, i, a):
    if op == "Constant":
        return numpy_helper.to_array(a["value"])
    if op == "Identity":
        return i[0]
    if op == "Gemm":
        return _gemm(i[0], i[1], i[2] if len(i) > 2 else None, a)
    if op == "MatMul":
        return np.matmul(i[0], i[1])
    if op == "Conv":
        return _conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
    if op == "BatchNormalization":
        return _batchnorm(*i[:5], a)
    if op == "MaxPool":
        return _maxpool(i[0], a)
    if op == "AveragePool":
        return _averagepool(i[0], a)
    if op == "GlobalAveragePool":
        return i[0].mean(axis=tuple(range(2, i[0].ndim)), keepdims=True)
    if op == "Flatten":
        axis = a.get("axis", 1)
        return i[0].reshape(int(np.prod(i[0].shape[:axis])), -1)
    if op == "Reshape":
        return _reshape(i[0], i[1])
    if op == "Transpose":
        return np.transpose(i[0], a.get("perm"))
    if op == "Gather":
        return np.take(i[0], i[1], axis=a.get("axis", 0))
    if op == "Softmax":
        return _softmax(i[0], a.get("axis", -1))
    if op == "ReduceMean":
        axes = tuple(a["axes"]) if "axes" in a else None
        return i[0].mean(axis=axes, keepdims=bool(a.get("keepdims", 1)))
    if op == "Relu":
        return np.maximum(i[0], 0.0)
    if op == "Erf":
        return _erf(i[0])
    if op == "Sqrt":
        return np.sqrt(i[0])
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}
    if op in binary:
        return binary[op](i[0], i[1])
    raise NotImplementedError(f"operator {op}")


def run(model, x):
    """Evaluates the graph on input x (the graph's single input) in float64; returns the outputs."""
    env = {}
    for t in model.graph.initializer:
        value = numpy_helper.to_array(t)
        env[t.name] = value.astype(np.float64) if value.dtype.kind == "f" else value
    env[model.graph.input[0].name] = np.asarray(x, dtype=np.float64)
    for node in model.graph.node:
        inputs = [env[name] if name else None for name in node.input]
        # Integer tensors (shapes, indices) stay integers; everything else is computed in float64.
        value = _run_node(node.op_type, inputs, _attrs(node))
        if value.dtype.kind == "f":
            value = value.astype(np.float64)
        env[node.output[0]] = value
    return [env[o.name] for o in model.graph.output]
