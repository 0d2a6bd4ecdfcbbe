// A minimal NumPy .npy reader and writer (format 1.0/2.0/3.0, little-endian float32/float64/int64,
// C order): enough to feed the shipped inputs to ONNX Runtime and write its outputs back.
'use strict';
const fs = require('fs');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // \x93NUMPY

/// Returns {shape: number[], data: Float32Array | Float64Array | BigInt64Array}.
function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${path}: not an .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${path}: unreadable header ${header}`);
  if (fortran[1] === 'True') throw new Error(`${path}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  // Copy into an aligned buffer: the data offset need not be a multiple of 8.
  const bytes = buf.subarray(start);
  if (descr[1] === '<f4') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; ++i) out[i] = bytes.readFloatLE(4 * i);
    return { shape: dims, data: out };
  }
  if (descr[1] === '<f8') {
    const out = new Float64Array(count);
    for (let i = 0; i < count; ++i) out[i] = bytes.readDoubleLE(8 * i);
    return { shape: dims, data: out };
  }
  if (descr[1] === '<i8') {  // token ids and masks (tools/zoo/ort_outputs.js)
    const out = new BigInt64Array(count);
    for (let i = 0; i < count; ++i) out[i] = bytes.readBigInt64LE(8 * i);
    return { shape: dims, data: out };
  }
  throw new Error(`${path}: dtype ${descr[1]} is not supported (float32/float64/int64 only)`);
}

/// Writes a float32 array (format 1.0, header padded to a multiple of 64 bytes).
function writeNpyFloat32(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

module.exports = { readNpy, writeNpyFloat32 };
