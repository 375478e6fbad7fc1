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
 * @typedef {{ generatedLine: number, generatedColumn: number, source: number, line: number, column: number, name?: number }} Segment
 */

/**
 * Every mapping of a map with a source, in order, its positions absolute rather than relative to the one before.
 * @param {{ mappings: string }} map
 * @returns {Generator<Segment>}
 */
function* segments(map) {
  const state = { source: 0, line: 0, column: 0, name: 0 };
  const lines = map.mappings.split(';');
  for (let generatedLine = 0; generatedLine < lines.length; generatedLine++) {
    let generatedColumn = 0;
    const line = lines[generatedLine];
    for (const segment of line ? line.split(',') : []) {
      const [column = 0, source, sourceLine, sourceColumn, name] = decodeVlq(segment);
      generatedColumn += column;
      if (source === undefined || sourceLine === undefined || sourceColumn === undefined) continue;
      state.source += source;
      state.line += sourceLine;
      state.column += sourceColumn;
      if (name !== undefined) state.name += name;
      yield {
        generatedLine,
        generatedColumn,
        source: state.source,
        line: state.line,
        column: state.column,
        ...(name !== undefined ? { name: state.name } : {}),
      };
    }
  }
}

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
  /** @type {string[][]} */
  const lines = map.mappings.split(';').map(() => []);
  const out = { generatedLine: -1, generatedColumn: 0, source: 0, line: 0, column: 0, name: 0 };
  for (const segment of segments(map)) {
    const file = map.sources[segment.source];
    if (file === undefined || !keep(file)) continue;
    const newSource = sourceIndex.get(segment.source) ?? sources.push(file) - 1;
    sourceIndex.set(segment.source, newSource);
    // Generated columns restart at each line; the other fields run on across lines.
    if (segment.generatedLine !== out.generatedLine) out.generatedColumn = 0;
    let fields = encodeVlq(segment.generatedColumn - out.generatedColumn) + encodeVlq(newSource - out.source);
    fields += encodeVlq(segment.line - out.line) + encodeVlq(segment.column - out.column);
    if (segment.name !== undefined && map.names) {
      const newName = nameIndex.get(segment.name) ?? names.push(map.names[segment.name] ?? '') - 1;
      nameIndex.set(segment.name, newName);
      fields += encodeVlq(newName - out.name);
      out.name = newName;
    }
    const { generatedLine, generatedColumn, line, column } = segment;
    Object.assign(out, { generatedLine, generatedColumn, source: newSource, line, column });
    lines[segment.generatedLine]?.push(fields);
  }
  return { ...map, sources, names, mappings: lines.map((kept) => kept.join(',')).join(';') };
};

/**
 * Every mapping of a map as absolute positions: [generated line, generated column, source, line, column].
 * @param {{ sources: string[], mappings: string }} map
 * @returns {[number, number, string, number, number][]}
 */
const decodeMappings = (map) =>
  [...segments(map)].map((s) => [s.generatedLine, s.generatedColumn, map.sources[s.source] ?? '', s.line, s.column]);

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
