#!/usr/bin/python3
"""onnx's own checker (Debian's python3-onnx, the Python API users run) on every converted model
of data/converted, with full_check: shape and type inference must succeed too, so every operator
receives types its schema allows. Also that each is binary16 where fpaudit said: the weights
FLOAT16 except those of the kept nodes, and the graph's inputs and outputs still FLOAT."""
import pathlib
import sys

import onnx

folder = pathlib.Path(sys.argv[1])
models = sorted(folder.glob("*.onnx"))
failures = 0
for path in models:
    model = onnx.load(str(path))
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's own exception types differ between versions
        print(f"FAIL {path.name}: {e}")
        failures += 1
        continue
    types = {t.data_type for t in model.graph.initializer}
    io = {v.type.tensor_type.elem_type for v in list(model.graph.input) + list(model.graph.output)}
    if onnx.TensorProto.FLOAT16 not in types or io != {onnx.TensorProto.FLOAT}:
        print(f"FAIL {path.name}: initializer types {sorted(types)}, input/output types {sorted(io)}")
        failures += 1
if len(models) < 4:
    print(f"FAIL expected the 4 converted models in {folder}, found {len(models)}")
    failures += 1
if not failures:
    print(f"onnx {onnx.__version__} checker (full_check): {len(models)} converted models pass")
sys.exit(1 if failures else 0)
