// Times ONNX Runtime's CPU FP32 inference of one model on the first N samples of an .npy file:
// one warm-up pass, then `repeats` timed passes in batches of `batch`; prints one JSON object
// (ms per sample: best and median pass) and optionally writes the logits as float32 .npy.
//   node bench/ort_bench.js --model data/cnn.onnx --input data/test_images.npy --samples 1000 \
//        --threads 1 --batch 64 --repeats 5 [--output ort.npy]
'use strict';
const ort = require('onnxruntime-node');
const { readNpy, writeNpyFloat32 } = require('./npy');

function parseArgs(argv) {
  const a = { samples: 1000, threads: 1, batch: 64, repeats: 5, output: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) && key !== 'model' && key !== 'input') throw new Error(`unknown option ${argv[i]}`);
    a[key] = typeof a[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!a.model || !a.input) throw new Error('--model and --input are required');
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const x = readNpy(a.input);
  const per = x.shape.slice(1).reduce((p, d) => p * d, 1);
  const n = Math.min(a.samples, x.shape[0]);
  const data = Float32Array.from(x.data.subarray(0, n * per));
  // One intra-op pool of `threads` threads (the caller's thread included), no inter-op
  // parallelism (a sequential graph), every graph optimisation ORT has.
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0], outName = session.outputNames[0];
  // Input tensors built once: the timed loop is session.run alone.
  const batches = [];
  for (let s = 0; s < n; s += a.batch) {
    const m = Math.min(a.batch, n - s);
    batches.push(new ort.Tensor('float32', data.subarray(s * per, (s + m) * per), [m, ...x.shape.slice(1)]));
  }
  let logits = null, classes = 0;
  const pass = async (keep) => {
    let off = 0;
    for (const t of batches) {
      const out = (await session.run({ [inName]: t }))[outName];
      if (keep) {
        classes = out.dims[out.dims.length - 1];
        if (!logits) logits = new Float32Array(n * classes);
        logits.set(out.data, off);
        off += out.data.length;
      }
    }
  };
  await pass(true);  // warm-up: allocations, kernel selection, page faults
  const ms = [];
  for (let r = 0; r < a.repeats; ++r) {
    const t0 = process.hrtime.bigint();
    await pass(false);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6 / n);
  }
  ms.sort((p, q) => p - q);
  if (a.output) writeNpyFloat32(a.output, [n, classes], logits);
  console.log(JSON.stringify({
    runtime: `onnxruntime-node ${ort.env.versions.node}`, model: a.model, samples: n, threads: a.threads,
    batch: a.batch, repeats: a.repeats, ms_per_sample_best: ms[0], ms_per_sample_median: ms[Math.floor(ms.length / 2)],
  }));
}

main().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(2); });
