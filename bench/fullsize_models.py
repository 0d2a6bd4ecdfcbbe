"""Full-size models for the memory benchmark (bench/memory.sh): a ResNet-50 at 224x224 and a
BERT-base-sized encoder (12 layers, hidden 768, 12 heads, FFN 3072, 128 tokens) with seeded
random weights, written as ONNX graphs with one float input each, plus seeded input samples.

    /usr/bin/python3 bench/fullsize_models.py OUT_DIR

Built with the onnx package's helpers and numpy alone (this machine's Debian python3 has onnx
and numpy, neither torch nor torchvision). The .onnx files are large (about 100 MB and 340 MB):
they go to a scratch folder and are never committed. The weights are not trained; a memory
measurement depends only on the tensors' sizes and the graph's shape. BatchNormalization stays a
node (eval mode, non-trivial running statistics), as an unfolded export has it.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20261205
OPSET = 17  # LayerNormalization


class Builder:
    """Accumulates nodes and initializers; names are unique by a running counter."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem, array):
        n = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), n))
        return n

    def const_i64(self, stem, values):
        n = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def normal(self, shape, std):
        return self.rng.normal(0.0, std, size=shape).astype(np.float32)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------- ResNet-50
def conv_bn(b, x, c_in, c_out, k, stride, relu=True):
    """Conv (He-normal weights, no bias), BatchNormalization with eval-mode statistics, ReLU."""
    w = b.const("w", b.normal((c_out, c_in, k, k), np.sqrt(2.0 / (c_out * k * k))))
    y = b.op("Conv", [x, w], kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)
    stats = [b.uniform(c_out, 0.5, 1.0), b.uniform(c_out, -0.1, 0.1), b.uniform(c_out, -0.2, 0.2), b.uniform(c_out, 0.5, 2.0)]
    y = b.op("BatchNormalization", [y] + [b.const(s, v) for s, v in zip(["gamma", "beta", "mean", "var"], stats)], epsilon=1e-5)
    return b.op("Relu", [y]) if relu else y


def bottleneck(b, x, c_in, width, stride):
    """ResNet v1.5 bottleneck (stride on the 3x3): 1x1, 3x3, 1x1, expansion 4, projection
    shortcut where the shape changes."""
    c_out = 4 * width
    y = conv_bn(b, x, c_in, width, 1, 1)
    y = conv_bn(b, y, width, width, 3, stride)
    y = conv_bn(b, y, width, c_out, 1, 1, relu=False)
    shortcut = x if stride == 1 and c_in == c_out else conv_bn(b, x, c_in, c_out, 1, stride, relu=False)
    return b.op("Relu", [b.op("Add", [y, shortcut])])


def resnet50(seed):
    """7x7/2 stem, 3x3/2 max pool, stages of 3, 4, 6, 3 bottlenecks (widths 64..512), global
    average pool, Gemm to 1000 classes: 25.6 M parameters, 4.1 G multiply-adds at 224x224."""
    b = Builder(seed)
    x = conv_bn(b, "input", 3, 64, 7, 2)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for j in range(blocks):
            x = bottleneck(b, x, c, width, 2 if stage > 0 and j == 0 else 1)
            c = 4 * width
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    w = b.const("fc_w", b.normal((1000, c), np.sqrt(1.0 / c)))
    y = b.op("Gemm", [x, w, b.const("fc_b", b.uniform(1000, -0.01, 0.01))], transB=1)
    return b, y, [1, 3, 224, 224], [1, 1000]


# ---------------------------------------------------------------------------- BERT-base
def linear(b, x, d_in, d_out):
    """x [.., d_in] @ W [d_in, d_out] + bias, as torch exports nn.Linear on a 3-D input."""
    y = b.op("MatMul", [x, b.const("w", b.normal((d_in, d_out), 0.02))])
    return b.op("Add", [y, b.const("b", b.uniform(d_out, -0.02, 0.02))])


def layer_norm(b, x, dim):
    return b.op("LayerNormalization", [x, b.const("ln_g", b.uniform(dim, 0.9, 1.1)), b.const("ln_b", b.uniform(dim, -0.05, 0.05))],
                axis=-1, epsilon=1e-12)


def encoder_layer(b, x, tokens, dim, heads, ffn):
    """BERT's post-LN layer: x = LN(x + attn(x)); x = LN(x + FFN(x)) with exact GELU."""
    dh = dim // heads
    split = b.const_i64("shape", [1, tokens, heads, dh])

    def heads_of(t, perm):  # [1, T, D] -> [1, H, T, Dh] (perm 0213) or [1, H, Dh, T] (perm 0231)
        return b.op("Transpose", [b.op("Reshape", [t, split])], perm=perm)

    q = heads_of(linear(b, x, dim, dim), [0, 2, 1, 3])
    k = heads_of(linear(b, x, dim, dim), [0, 2, 3, 1])
    v = heads_of(linear(b, x, dim, dim), [0, 2, 1, 3])
    scores = b.op("Mul", [b.op("MatMul", [q, k]), b.const("scale", np.float32(1.0 / np.sqrt(dh)))])
    a = b.op("MatMul", [b.op("Softmax", [scores], axis=-1), v])
    a = b.op("Reshape", [b.op("Transpose", [a], perm=[0, 2, 1, 3]), b.const_i64("shape", [1, tokens, dim])])
    x = layer_norm(b, b.op("Add", [x, linear(b, a, dim, dim)]), dim)
    h = linear(b, x, dim, ffn)  # exact GELU: h * 0.5 * (1 + erf(h / sqrt 2))
    erf = b.op("Erf", [b.op("Div", [h, b.const("sqrt2", np.float32(np.sqrt(2.0)))])])
    h = b.op("Mul", [b.op("Mul", [h, b.op("Add", [erf, b.const("one", np.float32(1.0))])]), b.const("half", np.float32(0.5))])
    return layer_norm(b, b.op("Add", [x, linear(b, h, ffn, dim)]), dim)


def bert_base(seed, tokens=128, dim=768, heads=12, depth=12, ffn=3072, classes=2):
    """Float input embeddings [1, 128, 768] (one float input): + position embeddings,
    LayerNorm, 12 encoder layers, pooler (Gemm + Tanh on the first token), Gemm to 2 classes.
    85 M parameters in the encoder layers, 11 G multiply-adds per sample."""
    b = Builder(seed)
    x = layer_norm(b, b.op("Add", ["input", b.const("position", b.normal((1, tokens, dim), 0.02))]), dim)
    for _ in range(depth):
        x = encoder_layer(b, x, tokens, dim, heads, ffn)
    first = b.op("Reshape", [b.op("Gather", [x, b.const_i64("first", 0)], axis=1), b.const_i64("shape", [1, dim])])
    pooled = b.op("Tanh", [b.op("Gemm", [first, b.const("w", b.normal((dim, dim), 0.02)), b.const("b", np.zeros(dim))], transB=1)])
    y = b.op("Gemm", [pooled, b.const("w", b.normal((classes, dim), 0.02)), b.const("b", np.zeros(classes))], transB=1)
    return b, y, [1, tokens, dim], [1, classes]


def write(out_dir, name, build, seed, samples):
    b, y, in_shape, out_shape = build(seed)
    graph = helper.make_graph(b.nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bench/fullsize_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(out_dir, f"{name}.onnx")
    onnx.save(model, path)
    x = np.random.default_rng(seed + 1).normal(0.0, 1.0, size=[samples] + in_shape[1:]).astype(np.float32)
    np.save(os.path.join(out_dir, f"{name}-input.npy"), x)
    params = sum(int(np.prod(t.dims)) for t in b.inits if t.data_type == TensorProto.FLOAT)
    print(f"{name}: {params} float parameters ({4 * params} bytes as fp32), {len(b.nodes)} nodes, {os.path.getsize(path)} bytes")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fullsize"
    os.makedirs(out, exist_ok=True)
    write(out, "resnet50", resnet50, SEED, 4)
    write(out, "bert_base", bert_base, SEED + 2, 4)


if __name__ == "__main__":
    main()
