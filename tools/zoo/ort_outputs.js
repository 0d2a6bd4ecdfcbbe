// ONNX Runtime's fp32 outputs for the model zoo (the peer fpaudit's fp32 chain is checked
// against): for every model of data/zoo/zoo.json, runs onnxruntime-node (bench/node_modules,
// CPU, one thread, every graph optimisation, as a user deploys it) on the model's input files
// and writes <name>-ort.npy (float32) and data/zoo/ort.json: the runtime's version and, per
// model, the SHA-256 of the model, of its inputs and of the outputs written, so that a test can
// show that the committed outputs are ONNX Runtime's for exactly the committed files.
//   (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci) && node tools/zoo/ort_outputs.js [data/zoo]
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

async function main() {
  const dir = process.argv[2] || path.join(__dirname, '..', '..', 'data', 'zoo');
  const zoo = JSON.parse(fs.readFileSync(path.join(dir, 'zoo.json'), 'utf8'));
  const record = {
    runtime: 'onnxruntime-node', version: ortVersion, node: process.version, cpu: os.cpus()[0].model,
    session: { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
    command: 'node tools/zoo/ort_outputs.js', models: {},
  };
  for (const [name, info] of Object.entries(zoo.models).sort()) {
    const modelFile = path.join(dir, info.file);
    const session = await ort.InferenceSession.create(modelFile, record.session);
    const feeds = {};
    session.inputNames.forEach((input, k) => {
      const x = readNpy(path.join(dir, info.input_files[k]));
      const type = x.data instanceof BigInt64Array ? 'int64' : 'float32';
      feeds[input] = new ort.Tensor(type, type === 'int64' ? x.data : Float32Array.from(x.data), x.shape);
    });
    const y = (await session.run(feeds))[session.outputNames[0]];
    const outFile = path.join(dir, `${name}-ort.npy`);
    writeNpyFloat32(outFile, y.dims, y.data);
    record.models[name] = {
      model: { file: info.file, sha256: sha256(modelFile) },
      inputs: info.input_files.map((f) => ({ file: f, sha256: sha256(path.join(dir, f)) })),
      output: { file: `${name}-ort.npy`, shape: y.dims, sha256: sha256(outFile) },
    };
    console.log(`${name}: ${session.inputNames.join(', ')} -> ${y.dims.join('x')}, written to ${outFile}`);
  }
  fs.writeFileSync(path.join(dir, 'ort.json'), JSON.stringify(record, null, 1) + '\n');
}

main().catch((e) => {
  console.error(`ort_outputs: ${e.message}`);
  process.exit(1);
});
