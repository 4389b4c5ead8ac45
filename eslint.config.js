// Lint: typescript-eslint strictTypeChecked, plus the layer direction of DESIGN.md §1 and the ban on
// host-dependent calls (clock, randomness, timers, console, node:*) in core code (src/ but src/cli).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layers = ['include', 'lib', 'hw', 'kernel', 'libsys', 'servers', 'user', 'sim', 'cli'];

/** Everything a layer may not import: the layers above it (servers additionally never import the kernel). */
function forbiddenFor(layer) {
  const above = layers.slice(layers.indexOf(layer) + 1);
  const banned = layer === 'servers' || layer === 'user' ? [...above, 'kernel'] : above;
  return banned.map((l) => ({
    group: [`**/${l}/*`, `**/${l}/**`],
    message: `${layer}/ may not import ${l}/ (DESIGN.md §1: include → lib → hw → kernel → libsys → servers → user → sim → cli)`,
  }));
}

const coreBans = {
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'No timers in core code: the clock is simulated.' },
    { name: 'setInterval', message: 'No timers in core code: the clock is simulated.' },
    { name: 'setImmediate', message: 'No timers in core code: the clock is simulated.' },
    { name: 'console', message: 'Core code reports through the trace sink, not the console.' },
    { name: 'process', message: 'Core code must run in a browser too.' },
    { name: 'performance', message: 'No host clock in core code.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'No host clock in core code (determinism).' },
    { object: 'Math', property: 'random', message: 'Use the seeded Rng (determinism).' },
  ],
  'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'No host clock in core code.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.stryker-tmp/**', 'reports/**', 'out/**', 'coverage/**', 'web/dist/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // A program may end by returning nothing: Promise<number | void> is its natural type.
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'No enum: use an as-const object.' }],
    },
  },
  ...layers
    .filter((l) => l !== 'cli')
    .map((layer) => ({
      files: [`src/${layer}/**/*.ts`],
      rules: {
        ...coreBans,
        'no-restricted-syntax': [
          'error',
          { selector: 'TSEnumDeclaration', message: 'No enum: use an as-const object.' },
          { selector: "NewExpression[callee.name='Date']", message: 'No host clock in core code.' },
          { selector: 'ExportDefaultDeclaration', message: 'No default exports.' },
        ],
        '@typescript-eslint/no-non-null-assertion': 'error',
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...forbiddenFor(layer),
              { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads'], message: 'No node:* in core code.' },
            ],
          },
        ],
      },
    })),
  {
    // The browser view: src/sim and below, never the CLI or node:* (it runs in a page and a Web Worker).
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    ignores: ['web/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/*', '**/cli/**'], message: 'web/ may import src/sim and below, not src/cli/ (DESIGN.md §1)' },
            { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads'], message: 'No node:* in the browser view.' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/cli/bench/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
);
