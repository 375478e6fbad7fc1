// @ts-check
// serverless-esbuild loads this file (custom.esbuild.plugins) with require(), so it is CommonJS.
const { readFileSync, writeFileSync } = require('node:fs');
const { resolve } = require('node:path');

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = Object.fromEntries([...BASE64].map((c, i) => [c, i]));

/** @param {string} segment @returns {number[]} */
const decodeVlq = (segment) => {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT[char];
    if (digit === undefined) throw new Error(`not base64 VLQ: ${segment}`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
};

/** @param {number} value @returns {string} */
const encodeVlq = (value) => {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
};

/**
 * Keeps only the mappings into sources that `keep` accepts: a map of a bundle whose dependencies' mappings are
 * dropped still maps every frame of our own code, at a fraction of the size (and of the parse that
 * `--enable-source-maps` does at module load).
 * @param {{ version: number, sources: string[], names?: string[], mappings: string, [key: string]: unknown }} map
 * @param {(source: string) => boolean} keep
 */
const trimSourceMap = (map, keep) => {
  /** @type {string[]} */
  const sources = [];
  /** @type {Map<number, number>} */
  const sourceIndex = new Map();
  /** @type {string[]} */
  const names = [];
  /** @type {Map<number, number>} */
  const nameIndex = new Map();
  const state = { source: 0, line: 0, column: 0, name: 0 };
  const out = { source: 0, line: 0, column: 0, name: 0 };
  const lines = map.mappings.split(';').map((line) => {
    let generated = 0;
    let outGenerated = 0;
    const kept = [];
    for (const segment of line ? line.split(',') : []) {
      const [column = 0, source, sourceLine, sourceColumn, name] = decodeVlq(segment);
      generated += column;
      if (source === undefined || sourceLine === undefined || sourceColumn === undefined) continue;
      state.source += source;
      state.line += sourceLine;
      state.column += sourceColumn;
      if (name !== undefined) state.name += name;
      const file = map.sources[state.source];
      if (file === undefined || !keep(file)) continue;
      const newSource = sourceIndex.get(state.source) ?? sources.push(file) - 1;
      sourceIndex.set(state.source, newSource);
      let fields = encodeVlq(generated - outGenerated) + encodeVlq(newSource - out.source);
      fields += encodeVlq(state.line - out.line) + encodeVlq(state.column - out.column);
      if (name !== undefined && map.names) {
        const newName = nameIndex.get(state.name) ?? names.push(map.names[state.name] ?? '') - 1;
        nameIndex.set(state.name, newName);
        fields += encodeVlq(newName - out.name);
        out.name = newName;
      }
      outGenerated = generated;
      out.source = newSource;
      out.line = state.line;
      out.column = state.column;
      kept.push(fields);
    }
    return kept.join(',');
  });
  return { ...map, sources, names, mappings: lines.join(';') };
};

/**
 * Every mapping of a map as absolute positions: [generated line, generated column, source, line, column].
 * @param {{ sources: string[], mappings: string }} map
 */
const decodeMappings = (map) => {
  /** @type {[number, number, string, number, number][]} */
  const all = [];
  /** @type {[number, number, number]} */
  const state = [0, 0, 0];
  map.mappings.split(';').forEach((line, generatedLine) => {
    let column = 0;
    for (const segment of line ? line.split(',') : []) {
      const [delta = 0, ...rest] = decodeVlq(segment);
      column += delta;
      const [source, line, sourceColumn] = rest;
      if (source === undefined || line === undefined || sourceColumn === undefined) continue;
      state[0] += source;
      state[1] += line;
      state[2] += sourceColumn;
      all.push([generatedLine, column, map.sources[state[0]] ?? '', state[1], state[2]]);
    }
  });
  return all;
};

/** @param {string} source */
const ours = (source) => !source.includes('node_modules/');

/** An esbuild plugin that trims every written source map to our own sources. */
const trimSourceMaps = {
  name: 'trim-source-maps',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.initialOptions.metafile = true;
    const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
    build.onEnd((result) => {
      for (const file of Object.keys(result.metafile?.outputs ?? {})) {
        if (!file.endsWith('.map')) continue;
        const path = resolve(cwd, file);
        writeFileSync(path, JSON.stringify(trimSourceMap(JSON.parse(readFileSync(path, 'utf8')), ours)));
      }
    });
  },
};

module.exports = [trimSourceMaps];
module.exports.trimSourceMap = trimSourceMap;
module.exports.decodeMappings = decodeMappings;
