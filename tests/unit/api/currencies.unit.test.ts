import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isoCurrencies } from '../../../api/currencies.js';
import { RegisterProductRequest } from '../../../api/schemas.js';
import document from '../../../docs/openapi.json' with { type: 'json' };

const hasPython = (() => {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

const register = (currency: string) =>
  RegisterProductRequest.safeParse({ sku: 'SKU-1', name: 'Mug', price: { amount: 1200, currency }, stock: 1 });

describe('the currencies a price may be set in', () => {
  it('are the same on every runtime: ones Node 20 and Node 22 disagree on answer alike', () => {
    // Node 20's ICU refuses VED (Venezuela, since 2021) and XCG (2025), and accepts HRK (withdrawn in 2023).
    expect(register('VED').success).toBe(true);
    expect(register('XCG').success).toBe(true);
    expect(register('HRK').success).toBe(false);
  });

  it('take what a shop prices in and refuse codes of no currency, funds and metals', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'XOF', 'CHF']) expect(register(code).success, code).toBe(true);
    for (const code of ['XAU', 'XXX', 'XTS', 'XDR', 'CHE', 'USN', 'EUE']) {
      const result = register(code);
      expect(result.success, code).toBe(false);
      expect(result.error?.issues.map((issue) => [issue.path.join('/'), issue.message])).toEqual([
        ['price/currency', 'a currency ISO 4217 lists, such as EUR'],
      ]);
    }
  });

  it('are three capital letters each', () => {
    const codes = [...isoCurrencies];
    expect(codes.every((code) => /^[A-Z]{3}$/.test(code))).toBe(true);
    expect(codes.length).toBeGreaterThan(150);
  });

  it('are listed in the contract, which cannot carry the check that refuses the others', () => {
    const registration = document.components.schemas.RegisterProductRequest.properties;
    expect(registration.price.properties.currency.enum).toEqual([...isoCurrencies].sort());
    // And a name of spaces alone, empty once trimmed, is refused by the contract too.
    const name = new RegExp(registration.name.pattern, 'u');
    expect(name.test('   ')).toBe(false);
    expect(name.test(' Mug ')).toBe(true);
    expect(RegisterProductRequest.shape.name.safeParse('   ').success).toBe(false);
  });
});

describe('the document’s pattern for a product’s name', () => {
  const { pattern } = document.components.schemas.RegisterProductRequest.properties.name;
  const server = RegisterProductRequest.shape.name;
  // Validators read a pattern with the u flag (JavaScript's ajv) or without it (Python's jsonschema, linters that
  // crashed on, or refused every name for, the `\p{…}` the server's check is written with).
  const readings = [new RegExp(pattern, 'u'), new RegExp(pattern)];
  const taken = [
    'Mug',
    'Enamel mug, 350 ml',
    'Café ☕',
    '日本の急須',
    'e\u0301clair',
    '👩\u200d🍳 apron',
    'नमस्ते',
    '\tMug\n',
    ' 𝒜 ',
  ];
  // The last two, long and refused only at their end, would take a validator seconds on a pattern whose parts
  // overlap (each split of the name tried in turn).
  const refusedByBoth = [
    '   ',
    'Mug\u0007',
    'Mu\u0000g',
    'Mug \u202Egnp.exe',
    'Mug \u2066x\u2069',
    '\u200B\u200C',
    'Mu\u2028g',
    `${'a'.repeat(5_000)}${' '.repeat(5_000)}\u0007`,
    `${' '.repeat(5_000)}\t${'a'.repeat(5_000)}\u0007`,
  ];

  it('uses no escape only a Unicode-mode regular expression knows, and no \\s, which Python reads otherwise', () => {
    expect(pattern).not.toMatch(/\\[pP]\{|\\u\{|\\s/);
  });

  it.each(taken)('takes %j, as the server does, read either way', (value) => {
    expect(server.safeParse(value).success).toBe(true);
    for (const reading of readings) expect(reading.test(value), String(reading.flags)).toBe(true);
  });

  it.each(refusedByBoth.map((value) => [value.slice(0, 20), value]))(
    'refuses %j…, as the server does, read either way',
    (_, value) => {
      expect(server.safeParse(value).success).toBe(false);
      for (const reading of readings) expect(reading.test(value), String(reading.flags)).toBe(false);
    },
  );

  it('never refuses a name the server takes: each character of the Basic Multilingual Plane, alone and among others', () => {
    const wrappings = [(c: string) => c, (c: string) => ` ${c} `, (c: string) => `a${c}`, (c: string) => `${c}a`];
    const refused: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      for (const wrap of [...wrappings, (c: string) => `\t${c}\u2028`, (c: string) => `a${c}a`]) {
        const value = wrap(String.fromCharCode(code));
        if (server.safeParse(value).success && !readings.every((reading) => reading.test(value)))
          refused.push(JSON.stringify(value));
      }
    }
    expect(refused).toEqual([]);
  });

  // Python's `re`, where the `\p{…}` pattern crashed Python's jsonschema: the same verdicts.
  it.skipIf(!hasPython)('reads the same in Python', () => {
    const verdicts = execFileSync(
      'python3',
      [
        '-c',
        'import json, re, sys\nd = json.load(sys.stdin)\np = re.compile(d["pattern"])\n' +
          'print(json.dumps([p.search(v) is not None for v in d["values"]]))',
      ],
      { input: JSON.stringify({ pattern, values: [...taken, ...refusedByBoth] }), encoding: 'utf8' },
    );
    expect(JSON.parse(verdicts)).toEqual([...taken.map(() => true), ...refusedByBoth.map(() => false)]);
  });
});

describe('a product’s name', () => {
  const name = RegisterProductRequest.shape.name;
  it.each(['Mug', 'Café ☕', '日本の急須', 'e\u0301clair', '👩\u200d🍳 apron', 'नमस्ते'])('takes %s', (value) => {
    expect(name.safeParse(value).success).toBe(true);
  });

  it.each([
    ['a control character', 'Mug\u0007'],
    ['a NUL', 'Mu\u0000g'],
    ['a right-to-left override', 'Mug \u202Egnp.exe'],
    ['an isolate', 'Mug \u2066x\u2069'],
    ['nothing visible', '\u200B\u200C'],
  ])('refuses %s', (_, value) => {
    expect(name.safeParse(value).success).toBe(false);
  });

  it('says one thing of a blank name: that it is empty', () => {
    const result = name.safeParse('   ');
    expect(result.success ? [] : result.error.issues.map((issue) => issue.code)).toEqual(['too_small']);
  });
});
