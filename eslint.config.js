// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The project's top-level code folders: the layers, and the entry points above them. */
const topLevel = [
  'ports',
  'domain',
  'eventstore',
  'projections',
  'application',
  'adapters',
  'composition',
  'functions',
  'api',
  'ops',
  'local',
  'bench',
  'tests',
];

/**
 * One `no-restricted-imports` block per layer: a relative import that climbs out to another top-level folder must
 * land in one of the layers this one may use. (No folder inside a layer shares a name with a top-level one.)
 */
function layers(allowed) {
  return Object.entries(allowed).map(([layer, below]) => {
    const forbidden = topLevel.filter((folder) => folder !== layer && !below.includes(folder));
    const allowedFiles = below.filter((entry) => entry.includes('/'));
    return {
      files: [`${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./)+(${forbidden.join('|')})/${allowedFiles.length ? `(?!(${allowedFiles.map((f) => f.split('/')[1]).join('|')})\\.js$)` : ''}`,
                message: `${layer}/ may import only ${below.length ? below.join(', ') : 'nothing of the project'} (docs/architecture.md, "Layers").`,
              },
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules', '.serverless', '.esbuild', '.local', 'coverage', 'docs'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          // `import { z }` makes esbuild keep all of zod, locales included (about 470 KB of every bundle);
          // `import * as z` lets it keep only what is used.
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message: "Import zod as `import * as z from 'zod'`, so bundles keep only the zod they use.",
        },
      ],
    },
  },
  {
    // CommonJS only where a tool loads the file with require() (serverless-esbuild's plugins file).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The domain is pure: nothing from AWS, middy, Node's I/O or the rest of the project.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!zod$|\\.{1,2}/)', message: 'domain/ imports only zod and other domain modules.' },
            { regex: '^(\\.\\./){2,}', message: 'domain/ must not reach outside domain/.' },
          ],
        },
      ],
    },
  },
  // Modules every function evaluates at init: `toLocaleString` there loads ICU's locale data into each cold start
  // (about 40 ms, docs/performance.md "Cold start").
  {
    files: ['api/**/*.ts', 'domain/**/*.ts', 'projections/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { property: 'toLocaleString', message: 'Loads ICU at init: use figure() of api/figures.ts.' },
      ],
    },
  },
  // Each layer imports only the layers below it (docs/architecture.md, "Layers"):
  // domain, ports < eventstore < projections < application < adapters < composition < functions, api < ops, local, bench.
  ...layers({
    ports: [],
    eventstore: ['domain', 'ports'],
    projections: ['domain', 'ports', 'eventstore'],
    application: ['domain', 'ports', 'eventstore', 'projections'],
    adapters: ['domain', 'ports', 'eventstore', 'projections', 'application'],
    composition: ['domain', 'ports', 'eventstore', 'projections', 'application', 'adapters'],
    // The HTTP contract: routes, request schemas, the OpenAPI document. Its responses are the read models' views.
    api: ['domain', 'projections'],
    // A handler decodes its own Lambda event (adapters/changeRecords.ts); everything else it gets from the root.
    functions: [
      'domain',
      'ports',
      'eventstore',
      'projections',
      'application',
      'composition',
      'api',
      'adapters/changeRecords',
    ],
  }),
);
