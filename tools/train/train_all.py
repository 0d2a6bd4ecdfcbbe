#!/usr/bin/python3
"""Trains, exports and checks the three models fpaudit ships; writes everything under data/.

    /usr/bin/python3 tools/train/train_all.py                # all three, about 20 minutes on one core
    /usr/bin/python3 tools/train/train_all.py --models cnn   # one model; other entries of models.json stay

Writes data/{mlp,cnn,vit}.onnx, data/test_images.npy, data/test_labels.npy, data/sample_images.npy,
data/<model>_logits8.npy and data/models.json. See tools/train/README.md for the recipe.
"""
import argparse
import collections
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deps import require  # noqa: E402

np, torch, onnx = require("numpy", "torch", "onnx")
import dataset  # noqa: E402
import models  # noqa: E402
import onnx_numpy  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBSET = 2000   # data/test_images.npy: the first SUBSET images of the Fashion-MNIST test set
SAMPLES = 8     # data/sample_images.npy and data/<model>_logits8.npy: the first SAMPLES of those

# The operators fpaudit evaluates. An export with anything else is a bug in models.py.
ALLOWED_OPS = set("""
Gemm MatMul Conv ConvTranspose BatchNormalization Relu LeakyRelu PRelu Sigmoid HardSigmoid HardSwish
Tanh Erf Gelu Softmax LogSoftmax LayerNormalization MaxPool AveragePool GlobalAveragePool Add Sub Mul
Div Pow Sqrt Reciprocal Exp Log Clip Min Max Flatten Reshape Transpose Concat Split Slice Squeeze
Unsqueeze Gather Identity Dropout Cast Resize ReduceMean ReduceSum Shape Constant ConstantOfShape
""".split())

# One recipe per model. All use Adam, cross-entropy, a linear warm-up then cosine decay to 0 over
# all steps, and the full 60k training set in a seeded random order each epoch.
RECIPES = {
    "mlp": dict(opset=13, epochs=8, lr=1e-3, batch=128, warmup_steps=0, seed=1,
                export_mode="EVAL",
                architecture="Flatten; Linear 784->256, ReLU; Linear 256->128, ReLU; Linear 128->10"),
    "cnn": dict(opset=13, epochs=6, lr=2e-3, batch=128, warmup_steps=0, seed=2,
                export_mode="PRESERVE",
                architecture="Conv 1->16 3x3 pad 1 (no bias), BatchNorm, ReLU, MaxPool 2; "
                             "Conv 16->32 3x3 pad 1 (no bias), BatchNorm, ReLU, MaxPool 2; "
                             "Conv 32->64 3x3 pad 1 (no bias), BatchNorm, ReLU, AvgPool 2 (7x7 -> 3x3); "
                             "Flatten; Linear 576->10"),
    "vit": dict(opset=14, epochs=6, lr=2e-3, batch=128, warmup_steps=400, seed=3,
                export_mode="EVAL",
                architecture="Patch embedding Conv 1->64 kernel 7 stride 7 (16 tokens of dim 64); "
                             "learned positional embedding (Add); 3 pre-LayerNorm encoder blocks "
                             "[LayerNorm; 4-head self-attention (Linear 64->192 qkv, softmax(QK^T/sqrt(16))V, "
                             "Linear 64->64); residual; LayerNorm; Linear 64->128, GELU (erf), Linear 128->64; "
                             "residual]; LayerNorm; mean over tokens; Linear 64->10"),
}


def log(msg):
    print(msg, flush=True)


def accuracy(model, x, y, batch=1000):
    return float((predict(model, x, batch).argmax(1) == y).mean())


def predict(model, x, batch=1000):
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + batch])).numpy()
                               for i in range(0, len(x), batch)])


def train(name, model, r, x_train, y_train, x_test, y_test, max_steps):
    """Adam with warm-up + cosine decay; returns the recipe record with the measured wall time."""
    rng = np.random.default_rng(r["seed"])
    steps_per_epoch = math.ceil(len(x_train) / r["batch"])
    total = r["epochs"] * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=r["lr"])

    def lr_factor(step):
        if step < r["warmup_steps"]:
            return (step + 1) / r["warmup_steps"]
        return 0.5 * (1 + math.cos(math.pi * (step - r["warmup_steps"]) / (total - r["warmup_steps"])))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    start, step, epochs_log = time.time(), 0, []
    for epoch in range(r["epochs"]):
        model.train()
        order = torch.from_numpy(rng.permutation(len(x_train)))
        loss_sum, correct = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * r["batch"]:(b + 1) * r["batch"]]
            logits = model(xt[idx])
            loss = torch.nn.functional.cross_entropy(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yt[idx]).sum())
            step += 1
            if step == max_steps:
                break
        seen = min(len(x_train), (b + 1) * r["batch"])
        entry = dict(epoch=epoch + 1, train_loss=round(loss_sum / seen, 4),
                     train_accuracy=round(correct / seen, 4),
                     test_accuracy=round(accuracy(model, x_test, y_test), 4),
                     elapsed_s=round(time.time() - start, 1))
        epochs_log.append(entry)
        log(f"  {name} epoch {entry['epoch']}/{r['epochs']}: loss {entry['train_loss']:.4f} "
            f"train {entry['train_accuracy']:.4f} test {entry['test_accuracy']:.4f} "
            f"({entry['elapsed_s']:.0f} s)")
        if step == max_steps:
            break
    return dict(epochs=r["epochs"], steps=step, optimizer="Adam (betas 0.9, 0.999, eps 1e-8, no weight decay)",
                lr=r["lr"], lr_schedule=(f"linear warm-up over {r['warmup_steps']} steps, then " if r["warmup_steps"] else "")
                + "cosine decay to 0, stepped per batch",
                batch_size=r["batch"], loss="cross-entropy", seed=r["seed"],
                data_order="numpy default_rng(seed).permutation of the 60000 training images each epoch",
                torch=torch.__version__, threads=torch.get_num_threads(),
                augmentation="none", wall_time_s=round(time.time() - start, 1), per_epoch=epochs_log)


def export(name, model, r, path):
    """torch.onnx.export with a dynamic batch axis; returns the loaded, checked ONNX model."""
    model.eval()
    mode = getattr(torch.onnx.TrainingMode, r["export_mode"])
    with warnings.catch_warnings():
        # PRESERVE on a model in eval mode exports inference-mode BatchNormalization; the warning
        # about constant folding in training-amenable exports does not apply (checked numerically).
        warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")
        torch.onnx.export(model, torch.zeros(2, 1, 28, 28), path, opset_version=r["opset"],
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          do_constant_folding=True, training=mode)
    return check_graph(path)


def check_graph(path):
    """Loads an exported model and checks what fpaudit relies on: onnx.checker passes, only
    operators from ALLOWED_OPS, one input `input` [N,1,28,28] and one output `logits` [N,10]
    with a symbolic batch dimension N."""
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        sys.exit(f"{path}: operators outside fpaudit's list: {bad}")
    if [v.name for v in m.graph.input] != ["input"] or [v.name for v in m.graph.output] != ["logits"]:
        sys.exit(f"{path}: expected one input 'input' and one output 'logits'")
    for v, static in ((m.graph.input[0], [1, 28, 28]), (m.graph.output[0], [10])):
        dims = v.type.tensor_type.shape.dim
        if dims[0].dim_param != "N" or [d.dim_value for d in dims[1:]] != static:
            sys.exit(f"{path}: {v.name} has shape {dims}, expected [N, {static}]")
    return m


def check_against_numpy(name, onnx_model, x, torch_logits):
    """Evaluates the exported graph with the numpy interpreter (float64) on x in chunks."""
    out = np.concatenate([onnx_numpy.run(onnx_model, x[i:i + 250])[0] for i in range(0, len(x), 250)])
    diff = float(np.abs(out - torch_logits).max())
    agree = float((out.argmax(1) == torch_logits.argmax(1)).mean())
    log(f"  {name}: numpy float64 evaluation of the ONNX graph vs PyTorch fp32 on {len(x)} images: "
        f"max |diff| {diff:.2e}, argmax agreement {agree:.4f}")
    if diff > 1e-3 or agree < 0.999:
        sys.exit(f"{name}: exported graph does not reproduce PyTorch (max |diff| {diff}, agreement {agree})")
    return dict(images=len(x), max_abs_logit_diff=float(f"{diff:.3g}"), argmax_agreement=agree)


def environment():
    blas = [line.split("BLAS_INFO=")[1].split(",")[0] for line in torch.__config__.show().splitlines()
            if "BLAS_INFO=" in line]
    return dict(python=platform.python_version(), torch=torch.__version__, onnx=onnx.__version__,
                numpy=np.__version__, debian_packages=_debian_versions(),
                torch_blas=blas[0] if blas else "unknown", libblas=_libblas(),
                torch_threads=torch.get_num_threads(), machine=platform.machine())


def _debian_versions():
    """Versions of the Debian packages the run used ({} off Debian)."""
    names = ["python3-torch", "python3-onnx", "python3-numpy", "dataset-fashion-mnist"]
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *names],
                             capture_output=True, text=True, check=False).stdout
    except OSError:
        return {}
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _libblas():
    """The BLAS library torch's matrix products ran on; results depend on it in the last bits."""
    path = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    return os.path.realpath(path) if os.path.exists(path) else "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mlp,cnn,vit", help="comma-separated subset of mlp,cnn,vit")
    ap.add_argument("--out", default=os.path.join(REPO, "data"), help="output folder (default: data/)")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop each training after this many batches (smoke test; 0 = full recipe)")
    args = ap.parse_args()
    names = args.models.split(",")
    if not set(names) <= set(RECIPES):
        ap.error(f"--models: choose from {','.join(RECIPES)}")

    torch.set_num_threads(1)  # the build machine is shared; one core, also for determinism
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)

    x_train, y_train = dataset.load("train")
    x_test, y_test = dataset.load("t10k")
    x_sub, y_sub = x_test[:SUBSET], y_test[:SUBSET]
    np.save(os.path.join(args.out, "test_images.npy"), x_sub)
    np.save(os.path.join(args.out, "test_labels.npy"), y_sub)
    np.save(os.path.join(args.out, "sample_images.npy"), x_sub[:SAMPLES])

    json_path = os.path.join(args.out, "models.json")
    info = {"models": {}}
    if os.path.exists(json_path):
        with open(json_path) as f:
            info = json.load(f)
    info["dataset"] = dict(
        name="Fashion-MNIST", license="MIT", source="Debian package dataset-fashion-mnist",
        classes=dataset.CLASSES, train_images=len(x_train),
        preprocessing="float32 pixel/255 in [0,1], shape [N,1,28,28]; no normalisation, no augmentation",
        test_subset=f"the first {SUBSET} images of the 10000-image test set (t10k), in file order",
        test_subset_class_counts=np.bincount(y_sub, minlength=10).tolist())

    for name in names:
        r = RECIPES[name]
        log(f"{name}: training ({r['epochs']} epochs, Adam lr {r['lr']}, batch {r['batch']}, seed {r['seed']})")
        torch.manual_seed(r["seed"])
        np.random.seed(r["seed"])
        model = models.build(name)
        recipe = train(name, model, r, x_train, y_train, x_test, y_test, args.max_steps)

        path = os.path.join(args.out, f"{name}.onnx")
        onnx_model = export(name, model, r, path)
        ops = collections.Counter(n.op_type for n in onnx_model.graph.node)
        log(f"  {name}: {path} ({os.path.getsize(path)} bytes), {sum(ops.values())} nodes: "
            + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())))

        logits_sub = predict(model, x_sub)
        np.save(os.path.join(args.out, f"{name}_logits8.npy"), logits_sub[:SAMPLES].astype(np.float32))
        acc_sub = float((logits_sub.argmax(1) == y_sub).mean())
        acc_full = accuracy(model, x_test, y_test)
        log(f"  {name}: fp32 PyTorch accuracy {acc_sub:.4f} on the {SUBSET}-image subset, "
            f"{acc_full:.4f} on the full test set; training took {recipe['wall_time_s']:.0f} s")
        check = check_against_numpy(name, onnx_model, x_sub, logits_sub)

        bn = ("BatchNormalization kept as separate nodes (TrainingMode.PRESERVE on the model in eval "
              "mode skips the exporter's Conv+BN fusion)" if name == "cnn" else None)
        info["models"][name] = dict(
            file=f"{name}.onnx", architecture=r["architecture"],
            input=dict(name="input", dtype="float32", shape=["N", 1, 28, 28]),
            output=dict(name="logits", dtype="float32", shape=["N", 10], meaning="raw logits, no softmax"),
            parameters=sum(p.numel() for p in model.parameters()),
            macs_per_image=models.macs_per_image(model, name),
            opset=r["opset"],
            export=dict(function="torch.onnx.export", opset_version=r["opset"], do_constant_folding=True,
                        training=f"torch.onnx.TrainingMode.{r['export_mode']}",
                        dynamic_axes={"input": {"0": "N"}, "logits": {"0": "N"}},
                        **({"batchnorm": bn} if bn else {})),
            operators=dict(sorted(ops.items())), nodes=sum(ops.values()),
            onnx_bytes=os.path.getsize(path),
            training=recipe,
            accuracy_fp32_pytorch={f"test_subset_{SUBSET}": acc_sub, "test_full_10000": acc_full},
            onnx_graph_check=dict(onnx_checker="passed (full_check)", numpy_float64_vs_pytorch_fp32=check))
        info["environment"] = environment()
        with open(json_path + ".tmp", "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        os.replace(json_path + ".tmp", json_path)
    log(f"wrote {json_path}")


if __name__ == "__main__":
    main()
