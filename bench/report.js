// Turns the measurements of bench/run.sh (one folder) into the summary JSON and the Markdown
// tables of the README: per model the times per sample, audit / ONNX Runtime, multiply-adds per
// second, the 2-thread speed-up, peak memory, where the full audit's time goes, and whether
// fpaudit's fp32 outputs agree with ONNX Runtime's.
//   node bench/report.js bench/results/<stamp> bench/results/<stamp>.json
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');
const { readNpy } = require('./npy');

const [dir, summaryPath] = process.argv.slice(2);
const rows = fs.readFileSync(path.join(dir, 'measurements.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const json = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const find = (q) => rows.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
const CHAINS = ['fp32', 'fp16', 'fp16-acc32', 'bf16', 'bf16-acc32'];
const sh = (cmd) => { try { return execSync(cmd, { encoding: 'utf8' }).trim(); } catch { return null; } };

const machine = {
  cpu: sh("lscpu | sed -n 's/^Model name: *//p'"),
  cores: Number(sh('nproc')),
  load_average_at_end: sh('cut -d" " -f1-3 /proc/loadavg'),
  onnxruntime: require('onnxruntime-node/package.json').version,
  node: process.version,
  fpaudit_commit: sh('git rev-parse --short HEAD'),
};

/// The layer that writes the model's (first) output.
function outputLayer(audit) {
  const name = audit.model.output.name;
  return audit.layers.find((l) => l.outputs.some((o) => o.name === name));
}

/// fpaudit fp32 (fpaudit run) against ORT on the same samples. The criterion (bench/README.md):
/// both are binary32 evaluations of the same network, each within its own rounding error of the
/// exact one, so |Δ| ≤ 2·B where B is the audit's deterministic fp32 bound at the logits; where
/// the audit has no bound for the model yet, |Δ| ≤ 4·E with E the largest fp32 error the audit
/// measured against the exact reference (twice the level either evaluation showed, with a
/// factor 2 for their different summation orders and libm functions).
function agreement(model, audit) {
  const ort = readNpy(path.join(dir, `${model}-ort.npy`)).data;
  const ours = readNpy(path.join(dir, `${model}-run-fp32.npy`)).data;
  let delta = 0, scale = 0;
  for (let i = 0; i < ours.length; ++i) {
    delta = Math.max(delta, Math.abs(ours[i] - ort[i]));
    scale = Math.max(scale, Math.abs(ours[i]));
  }
  const fp32 = outputLayer(audit).chains.fp32;
  const E = fp32.propagated.abs.max;
  const b = fp32.bounds.propagated;
  const B = b.unbounded === 0 && b.checked > 0 ? b.bound.max : null;
  const tolerance = B !== null ? 2 * B : 4 * E;
  return { max_abs_difference: delta, max_abs_logit: scale, fp32_bound: B, fp32_measured_error: E,
           criterion: B !== null ? '|Δ| ≤ 2·B (fp32 bound)' : '|Δ| ≤ 4·E (measured fp32 error)', tolerance, agree: delta <= tolerance };
}

const models = [...new Set(rows.map((r) => r.model))];
const summary = { machine, models: {} };
for (const model of models) {
  const full1 = find({ kind: 'audit', model, chain: 'all', threads: 1 });
  const full2 = find({ kind: 'audit', model, chain: 'all', threads: 2 });
  const audit = json((full1 || full2).file);
  const n = audit.data.samples;
  const macs = audit.layers.reduce((s, l) => s + l.multiply_adds, 0);
  const ms = (r) => (r ? (1000 * r.seconds) / r.samples : null);
  const m = { samples: n, multiply_adds_per_sample: macs, ms_per_sample: {}, multiply_adds_per_second_per_core: {}, peak_mb: {} };
  // The model file's size: its fp32 weights, nearly all of it; peak memory is stated against it.
  m.model_mb = fs.statSync(audit.model.path).size / (1024 * 1024);
  for (const r of rows.filter((x) => x.model === model)) {
    const key = `${r.kind} ${r.chain} ${r.threads}T`;
    m.ms_per_sample[key] = ms(r);
    m.peak_mb[key] = r.peak_kb / 1024;
    if (r.kind === 'run') m.multiply_adds_per_second_per_core[`${r.chain} ${r.threads}T`] = (macs * r.samples) / r.seconds / r.threads;
  }
  const ort1 = find({ kind: 'ort', model, threads: 1 }), ort2 = find({ kind: 'ort', model, threads: 2 });
  m.audit_over_ort = { '1T': full1 && ort1 ? full1.seconds / ort1.seconds : null, '2T': full2 && ort2 ? full2.seconds / ort2.seconds : null };
  m.speedup_2T = {
    audit: full1 && full2 ? full1.seconds / full2.seconds : null,
    ort: ort1 && ort2 ? ort1.seconds / ort2.seconds : null,
  };
  // Where the full audit's time goes (phase_seconds of the 1-thread run when measured, else 2).
  const cpu = audit.timing.phase_seconds;
  const parts = { setup: cpu.setup ?? 0, 'reference (evaluation)': cpu.reference.evaluate, 'reference (bounds)': cpu.reference.bounds,
                  certificates: cpu.certificates ?? 0, 'margin certificates': cpu.margin_certificates ?? 0, other: cpu.other };
  for (const [c, t] of Object.entries(cpu.chains)) {
    parts[`${c} (evaluation)`] = t.evaluate;
    parts[`${c} (bounds)`] = t.bounds;
    parts[`${c} (statistics)`] = t.statistics;
  }
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  m.cpu_share = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / total]));
  // The fp16 chain inside the audit: two evaluations (propagated and local) per sample.
  m.multiply_adds_per_second_per_core['fp16 in the audit'] = cpu.chains.fp16 ? (2 * macs * n) / cpu.chains.fp16.evaluate : null;
  m.agreement = agreement(model, audit);
  summary.models[model] = m;
}
fs.writeFileSync(summaryPath, JSON.stringify(summary, null, 1) + '\n');

// ---- Markdown ----------------------------------------------------------------------------
const f = (x) => (x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());
const pair = (a, b) => `${f(a)} / ${f(b)}`;
const out = [];
out.push(`Machine: ${machine.cpu}, ${machine.cores} cores; onnxruntime-node ${machine.onnxruntime}; fpaudit ${machine.fpaudit_commit}; load average at the end ${machine.load_average_at_end}.`);
out.push('');
out.push('| model | N | MACs/sample | ORT 1T / 2T | fpaudit run fp32 1T / 2T | audit, one chain (1T): ' + CHAINS.join(', ') +
         ' | full audit 1T / 2T | audit / ORT 1T / 2T | fp16 MAC/s/core (run; in audit) | 2T/1T (audit; ORT) | peak MB (full audit 2T) / model MB |');
out.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const [model, m] of Object.entries(summary.models)) {
  const p = m.ms_per_sample;
  const mac = m.multiply_adds_per_second_per_core;
  out.push(`| ${model} | ${m.samples} | ${(m.multiply_adds_per_sample / 1e6).toFixed(2)} M | ${pair(p['ort fp32 1T'], p['ort fp32 2T'])} | ` +
           `${pair(p['run fp32 1T'], p['run fp32 2T'])} | ${CHAINS.map((c) => f(p[`audit ${c} 1T`])).join(', ')} | ` +
           `${pair(p['audit all 1T'], p['audit all 2T'])} | ${pair(m.audit_over_ort['1T'], m.audit_over_ort['2T'])} | ` +
           `${(mac['fp16 1T'] / 1e9).toFixed(2)}e9; ${(mac['fp16 in the audit'] / 1e9).toFixed(2)}e9 | ` +
           `${f(m.speedup_2T.audit)}; ${f(m.speedup_2T.ort)} | ${f(m.peak_mb['audit all 2T'] ?? m.peak_mb['audit all 1T'])} / ${f(m.model_mb)} |`);
}
out.push('');
out.push('Times in ms per sample. Share of the full audit\'s time (1 thread), by phase:');
out.push('');
const shareKeys = ['setup', 'reference (evaluation)', 'reference (bounds)', ...CHAINS.flatMap((c) => [`${c} (evaluation)`, `${c} (bounds)`, `${c} (statistics)`]), 'certificates', 'margin certificates', 'other'];
out.push('| part | ' + Object.keys(summary.models).join(' | ') + ' |');
out.push('|---|' + Object.keys(summary.models).map(() => '--:').join('|') + '|');
for (const k of shareKeys)
  out.push(`| ${k} | ${Object.values(summary.models).map((m) => (m.cpu_share[k] === undefined ? '–' : `${(100 * m.cpu_share[k]).toFixed(1)}%`)).join(' | ')} |`);
out.push('');
out.push('Agreement of fpaudit fp32 with ONNX Runtime fp32:');
out.push('');
out.push('| model | max abs difference | max abs logit | criterion | tolerance | agree |');
out.push('|---|--:|--:|---|--:|---|');
for (const [model, m] of Object.entries(summary.models)) {
  const a = m.agreement;
  out.push(`| ${model} | ${a.max_abs_difference.toExponential(2)} | ${f(a.max_abs_logit)} | ${a.criterion.replace(/\|/g, '\\|')} | ${a.tolerance.toExponential(2)} | ${a.agree ? 'yes' : 'NO'} |`);
}
console.log(out.join('\n'));
