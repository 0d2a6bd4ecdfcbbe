"""Exports the model zoo to data/zoo/: architectures users deploy, at reduced width, with seeded
weights (not trained: fpaudit audits arithmetic, and a seeded network exercises the same
operators and summation lengths), each with a small input file of a few samples.

    /usr/bin/python3 tools/zoo/export_zoo.py [--out data/zoo] [--models resnet18,unet]

Writes <name>.onnx and <name>-input.npy per model (BERT's int64 model takes two inputs:
bert-input_ids.npy and bert-attention_mask.npy) and zoo.json (versions, seeds, parameters,
MACs, opsets, operator counts). ONNX Runtime's outputs (the fp32 peer) are computed afterwards
by tools/zoo/ort_outputs.js. Deterministic: one thread, fixed seeds, CPU only.
"""
import argparse
import collections
import json
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from deps import require  # noqa: E402

torch, onnx, np, torchvision = require("torch", "onnx", "numpy", "torchvision")
import zoo_models  # noqa: E402

SAMPLES = 4
TOKENS = 16
PADDED = 4  # BERT: the last 4 of the 16 positions are padding in every sample


def calibrate_batchnorm(model, shape, seed):
    """Sets every BatchNorm's running mean and variance to the statistics of 8 batches of 16
    seeded uniform [0, 1) inputs (cumulative average), so that the folded Conv biases and
    scales are those of a network whose activations are normalised, not the identity."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g = torch.Generator().manual_seed(seed + 1000)
    model.train()
    with torch.no_grad():
        for _ in range(8):
            model(torch.rand(16, *shape, generator=g))
    model.eval()


def count_macs(model, args):
    """Multiply-adds of Conv, ConvTranspose and Linear (hooks), the attention products
    (2·T²·D per block) and the GRU (3 gates × (F + H) × H per step); one sample."""
    total = [0]

    def conv(m, inp, out):
        total[0] += out.numel() // out.shape[0] * (m.in_channels // m.groups) * int(np.prod(m.kernel_size))

    def convt(m, inp, out):
        x = inp[0]
        total[0] += x.numel() // x.shape[0] * (m.out_channels // m.groups) * int(np.prod(m.kernel_size))

    def linear(m, inp, out):
        total[0] += out.numel() // out.shape[0] * m.in_features

    def attention(m, inp, out):
        total[0] += 2 * m.tokens * m.tokens * m.dim

    def gru(m, inp, out):
        steps = inp[0].shape[1]
        total[0] += steps * 3 * (m.input_size + m.hidden_size) * m.hidden_size

    hooks = []
    for m in model.modules():
        kind = {torch.nn.Conv2d: conv, torch.nn.ConvTranspose2d: convt, torch.nn.Linear: linear,
                zoo_models.SelfAttention: attention, torch.nn.GRU: gru}.get(type(m))
        if kind:
            hooks.append(m.register_forward_hook(kind))
    with torch.no_grad():
        model(*[a[:1] for a in args])
    for h in hooks:
        h.remove()
    if isinstance(model, zoo_models.GPTDecoder):  # the tied output projection is a plain matmul
        total[0] += model.word.shape[0] * model.word.shape[1]
    return total[0]


def images(seed, c, h, w):
    return torch.rand(SAMPLES, c, h, w, generator=torch.Generator().manual_seed(seed))


def bert_ids(seed, vocab):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab, (SAMPLES, TOKENS), generator=g)
    ids[:, 0] = 1                       # [CLS]
    mask = torch.ones(SAMPLES, TOKENS, dtype=torch.int64)
    ids[:, TOKENS - PADDED:] = 0        # [PAD]
    mask[:, TOKENS - PADDED:] = 0
    return ids, mask


MODELS = ["resnet18", "mobilenetv3_small", "efficientnet_b0", "squeezenet", "unet", "bert", "bert_embeds", "gpt", "gru"]
# Opsets spread over what torch 1.13 exports (at most 17); squeezenet_op18 is squeezenet.onnx relabelled.
OPSETS = {"resnet18": 13, "mobilenetv3_small": 17, "efficientnet_b0": 15, "squeezenet": 13, "unet": 17, "bert": 13,
          "bert_embeds": 13, "gpt": 17, "gru": 13}
SEEDS = {"resnet18": 11, "mobilenetv3_small": 12, "squeezenet": 13, "unet": 14, "bert": 15, "bert_embeds": 15,
         "gpt": 16, "gru": 17, "efficientnet_b0": 18}


def build(name):
    """Returns (model, example inputs tuple, input names, output name)."""
    seed = SEEDS[name]
    torch.manual_seed(seed)
    if name == "resnet18":
        m = zoo_models.ResNet18(width=16)
        calibrate_batchnorm(m, (3, 32, 32), seed)
        return m, (images(seed, 3, 32, 32),), ["input"], "logits"
    if name == "mobilenetv3_small":
        m = zoo_models.mobilenet_v3_small()
        calibrate_batchnorm(m, (3, 32, 32), seed)
        return m, (images(seed, 3, 32, 32),), ["input"], "logits"
    if name == "efficientnet_b0":
        m = zoo_models.efficientnet_b0()
        calibrate_batchnorm(m, (3, 32, 32), seed)
        return m, (images(seed, 3, 32, 32),), ["input"], "logits"
    if name == "squeezenet":
        m = zoo_models.squeezenet()
        return m.eval(), (images(seed, 3, 32, 32),), ["input"], "logits"
    if name == "unet":
        m = zoo_models.UNet()
        calibrate_batchnorm(m, (1, 32, 32), seed)
        return m, (images(seed, 1, 32, 32),), ["input"], "logits"
    if name in ("bert", "bert_embeds"):
        m = zoo_models.BertEncoder().eval()  # same seed: both files hold the same weights
        ids, mask = bert_ids(seed, m.embeddings.word.num_embeddings)
        if name == "bert":
            return m, (ids, mask), ["input_ids", "attention_mask"], "logits"
        m.baked_mask = ((1.0 - mask[:1].to(torch.float32)) * -10000.0).reshape(1, 1, 1, TOKENS)
        with torch.no_grad():
            embeds = m.embeddings.word(ids)
        return m, (embeds,), ["input"], "logits"
    if name == "gpt":
        m = zoo_models.GPTDecoder().eval()
        g = torch.Generator().manual_seed(seed + 1)
        ids = torch.randint(0, m.word.shape[0], (SAMPLES, TOKENS), generator=g)
        with torch.no_grad():
            embeds = m.word[ids]
        return m, (embeds,), ["input"], "logits"
    if name == "gru":
        m = zoo_models.GRUClassifier().eval()
        x = torch.randn(SAMPLES, 20, 8, generator=torch.Generator().manual_seed(seed + 1))
        return m, (x,), ["input"], "logits"
    raise ValueError(name)


def export(name, out_dir):
    model, args, input_names, output_name = build(name)
    model.eval()
    path = os.path.join(out_dir, f"{name}.onnx")
    dynamic = {n: {0: "N"} for n in input_names}
    dynamic[output_name] = {0: "N"}
    torch.onnx.export(model, args, path, opset_version=OPSETS[name], input_names=input_names,
                      output_names=[output_name], dynamic_axes=dynamic, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    if len(input_names) == 1:
        np.save(os.path.join(out_dir, f"{name}-input.npy"), args[0].numpy().astype(np.float32))
    else:
        for n, a in zip(input_names, args):
            np.save(os.path.join(out_dir, f"{name}-{n}.npy"), a.numpy())
    with torch.no_grad():
        torch_out = model(*args).numpy()
    ops = collections.Counter(n.op_type for n in m.graph.node)
    return {
        "file": f"{name}.onnx",
        "opset": OPSETS[name],
        "seed": SEEDS[name],
        "inputs": {n: list(a.shape) for n, a in zip(input_names, args)},
        "input_files": ([f"{name}-input.npy"] if len(input_names) == 1 else [f"{name}-{n}.npy" for n in input_names]),
        "output_shape": list(torch_out.shape),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "macs_per_sample": int(count_macs(model, args)),
        "bytes": os.path.getsize(path),
        "operators": dict(sorted(ops.items())),
        "torch_output_absmax": float(np.abs(torch_out).max()),
    }


def relabel_opset(src, dst, opset):
    """Writes `src` with its default-domain opset import raised to `opset`. Valid for graphs
    whose operators did not change between the two opsets (checked by the caller); torch 1.13
    exports at most opset 17 and onnx 1.12 knows no opset 18, so this is how Debian 12 makes an
    opset-18 model."""
    m = onnx.load(src)
    for entry in m.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = opset
    onnx.save(m, dst)


# Operators whose schema changed in opset 18 (ONNX's Changelog: ReduceX/axes as input, Split
# num_outputs, Pad axes, Resize antialias, ScatterX reduction, LpPool, Col2Im, bitwise ops,
# CenterCropPad, Optional*).
CHANGED_IN_18 = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
                 "ReduceProd", "ReduceSum", "ReduceSumSquare", "Split", "Pad", "Resize", "ScatterElements",
                 "ScatterND", "LpPool", "Col2Im", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot",
                 "CenterCropPad", "OptionalGetElement", "OptionalHasElement"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "zoo"))
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    manifest_path = os.path.join(out, "zoo.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {"models": {}}
    manifest["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                            "torchvision": torchvision.__version__, "onnx": onnx.__version__,
                            "numpy": np.__version__}
    manifest["command"] = "/usr/bin/python3 tools/zoo/export_zoo.py"
    for name in args.models.split(","):
        info = export(name, out)
        manifest["models"][name] = info
        print(f"{name}: opset {info['opset']}, {info['parameters']} parameters, {info['macs_per_sample']} MACs, "
              f"{info['bytes']} bytes; " + ", ".join(f"{k} {v}" for k, v in info["operators"].items()), flush=True)
        if name == "squeezenet":
            changed = CHANGED_IN_18 & set(info["operators"])
            if changed:
                sys.exit(f"squeezenet uses operators changed in opset 18: {sorted(changed)}")
            relabel_opset(os.path.join(out, "squeezenet.onnx"), os.path.join(out, "squeezenet_op18.onnx"), 18)
            manifest["models"]["squeezenet_op18"] = dict(info, file="squeezenet_op18.onnx", opset=18,
                                                         bytes=os.path.getsize(os.path.join(out, "squeezenet_op18.onnx")),
                                                         relabelled_from="squeezenet.onnx")
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
