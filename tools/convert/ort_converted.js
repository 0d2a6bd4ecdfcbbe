// ONNX Runtime's outputs for the converted models of data/converted (the runtime `fpaudit audit
// --compare` judges, tests/convert): runs onnxruntime-node (bench/node_modules, CPU, one thread)
// on the first `samples` images of the shipped test set and writes <name>-ort.npy (float32) and
// data/converted/ort.json: the runtime's version, its session options and the SHA-256 of every
// model, the input file and the outputs written, so that a test can show the committed outputs
// are ONNX Runtime's for exactly the committed files (the tests need no npm).
//   (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci) && node tools/convert/ort_converted.js
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const bench = path.join(__dirname, '..', '..', 'bench');
const ort = require(path.join(bench, 'node_modules', 'onnxruntime-node'));
const ortVersion = require(path.join(bench, 'node_modules', 'onnxruntime-node', 'package.json')).version;
const { readNpy, writeNpyFloat32 } = require(path.join(bench, 'npy'));

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const dir = path.join(__dirname, '..', '..', 'data', 'converted');
const inputFile = path.join(__dirname, '..', '..', 'data', 'test_images.npy');
const samples = 16;
// The converted models, and the float32 originals as the peer that shows ORT's fp32 baseline.
const models = [
  ['mlp_fp16', 'mlp_fp16.onnx'], ['cnn_fp16', 'cnn_fp16.onnx'], ['cnn_keep', 'cnn_keep.onnx'], ['vit_fp16', 'vit_fp16.onnx'],
  ['mlp_fp32', '../mlp.onnx'], ['cnn_fp32', '../cnn.onnx'], ['vit_fp32', '../vit.onnx'],
];
// 'disabled': ONNX Runtime still inserts its fp16<->fp32 Casts around operators without an fp16
// CPU kernel (that is not an optimisation), but fuses nothing, so every operator rounds where
// the model says; fusions such as Conv+BatchNormalization would fold the fp32 statistics into
// fp16 weights, a different arithmetic from the model's.
const session = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'disabled' };

async function main() {
  const x = readNpy(inputFile);
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const feed = Float32Array.from(x.data.subarray(0, samples * per));
  const record = {
    runtime: 'onnxruntime-node', version: ortVersion, node: process.version, cpu: os.cpus()[0].model, session,
    command: 'node tools/convert/ort_converted.js',
    input: { file: '../test_images.npy', samples, sha256: sha256(inputFile) },
    models: {},
  };
  for (const [name, file] of models) {
    const modelFile = path.join(dir, file);
    const s = await ort.InferenceSession.create(modelFile, session);
    const y = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', feed, [samples, ...x.shape.slice(1)]) }))[s.outputNames[0]];
    const outFile = path.join(dir, `${name}-ort.npy`);
    writeNpyFloat32(outFile, y.dims, y.data);
    record.models[name] = {
      model: { file, sha256: sha256(modelFile) },
      output: { file: `${name}-ort.npy`, shape: y.dims, sha256: sha256(outFile) },
    };
    console.log(`${name}: ${y.dims.join('x')} written to ${outFile}`);
  }
  fs.writeFileSync(path.join(dir, 'ort.json'), JSON.stringify(record, null, 1) + '\n');
}

main().catch((e) => {
  console.error(`ort_converted: ${e.message}`);
  process.exit(1);
});
