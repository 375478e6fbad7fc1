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

/** Each base64 character's value, by char code; -1 for any other. */
const DIGIT_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGIT_OF[BASE64.charCodeAt(i)] = i;
const COMMA = 44;
const SEMICOLON = 59;

/**
 * Keeps only the mappings into sources that `keep` accepts: a map of a bundle whose dependencies' mappings are
 * dropped still maps every frame of our own code, at a fraction of the size (and of the parse that
 * `--enable-source-maps` does at module load). One pass over the mappings, decoding VLQ digits by char code: a map
 * of an SDK function holds some 200,000 segments, and `segments()` (an object and an array per segment) took most
 * of the CPU that `sls package` spends in our code.
 * @param {{ version: number, sources: string[], names?: string[], mappings: string, [key: string]: unknown }} map
 * @param {(source: string) => boolean} keep
 */
const trimSourceMap = (map, keep) => {
  const kept = map.sources.map((file) => keep(file));
  /** @type {string[]} */
  const sources = [];
  const sourceIndex = new Int32Array(map.sources.length).fill(-1);
  /** @type {string[]} */
  const names = [];
  /** @type {Map<number, number>} */
  const nameIndex = new Map();
  const { mappings } = map;
  /** @type {string[]} */
  const out = [];
  // The fields of the segment being read, and, absolute, the positions so far: read, and as last written.
  const fields = [0, 0, 0, 0, 0];
  let count = 0;
  let value = 0;
  let shift = 0;
  let column = 0;
  let source = 0;
  let line = 0;
  let sourceColumn = 0;
  let name = 0;
  let written = { column: 0, source: 0, line: 0, sourceColumn: 0, name: 0 };
  let firstOnLine = true;
  for (let i = 0; i <= mappings.length; i++) {
    const char = i < mappings.length ? mappings.charCodeAt(i) : SEMICOLON;
    if (char !== COMMA && char !== SEMICOLON) {
      const digit = char < 128 ? DIGIT_OF[char] : -1;
      if (digit === undefined || digit < 0) throw new Error(`not base64 VLQ at ${i}: ${mappings.slice(i, i + 10)}`);
      value += (digit & 31) << shift;
      if (digit & 32) shift += 5;
      else {
        fields[count++] = value & 1 ? -(value >>> 1) : value >>> 1;
        value = 0;
        shift = 0;
      }
      continue;
    }
    if (count > 0) {
      column += fields[0] ?? 0;
      // A segment of one field maps to no source; one of four or five does.
      if (count >= 4) {
        source += fields[1] ?? 0;
        line += fields[2] ?? 0;
        sourceColumn += fields[3] ?? 0;
        if (count >= 5) name += fields[4] ?? 0;
        if (kept[source]) {
          let newSource = sourceIndex[source] ?? -1;
          if (newSource < 0) newSource = sourceIndex[source] = sources.push(map.sources[source] ?? '') - 1;
          let segment = (firstOnLine ? '' : ',') + encodeVlq(column - written.column);
          segment += encodeVlq(newSource - written.source) + encodeVlq(line - written.line);
          segment += encodeVlq(sourceColumn - written.sourceColumn);
          let newName = written.name;
          if (count >= 5 && map.names) {
            newName = nameIndex.get(name) ?? names.push(map.names[name] ?? '') - 1;
            nameIndex.set(name, newName);
            segment += encodeVlq(newName - written.name);
          }
          out.push(segment);
          written = { column, source: newSource, line, sourceColumn, name: newName };
          firstOnLine = false;
        }
      }
    }
    count = 0;
    if (char === SEMICOLON) {
      // Generated columns restart at each line; the other fields run on across lines.
      if (i < mappings.length) out.push(';');
      column = 0;
      written.column = 0;
      firstOnLine = true;
    }
  }
  return { ...map, sources, names, mappings: out.join('') };
};

/**
 * Every mapping of a map as absolute positions: [generated line, generated column, source, line, column], and its
 * name where it has one. The tests' reading of a map, kept apart from the trimming so it checks it.
 * @param {{ sources: string[], names?: string[], mappings: string }} map
 * @returns {[number, number, string, number, number, string?][]}
 */
const decodeMappings = (map) =>
  [...segments(map)].map((s) => {
    /** @type {[number, number, string, number, number, string?]} */
    const mapping = [s.generatedLine, s.generatedColumn, map.sources[s.source] ?? '', s.line, s.column];
    if (s.name !== undefined) mapping.push(map.names?.[s.name] ?? '');
    return mapping;
  });

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
