// Lint: typescript-eslint's recommended rules plus the layering rule (after VS Code's
// "Bad layering" rule): each folder may import only what its layer allows.
//   core     plain Node engine: never main, preload, host, renderer, cli, worker entry or electron
//   worker   runs under utilityProcess and Node fork: never electron, main, preload, host, renderer, cli
//   main     the Electron shell: never renderer, host or cli
//   preload  sandboxed: only electron and core/contract.ts (bundled into one file)
//   host     the browser host: never electron, main, preload or renderer
//   cli      never electron, main, preload or renderer
//   renderer only types from electron/core/contract.ts; no electron, no Node
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** One no-restricted-imports rule per layer; every message starts "Bad layering:". */
function layer(files, name, groups, extra = {}) {
  const paths = extra.noElectron ? [{ name: 'electron', message: `Bad layering: ${name} must not import electron (it runs outside Electron too).` }] : [];
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths,
          patterns: groups.map(([group, why]) => ({ group, message: `Bad layering: ${name} ${why}` })).concat(extra.patterns ?? []),
        },
      ],
    },
  };
}

const noElectron = { noElectron: true };

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-artifacts/**', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
    },
  },
  layer(['electron/core/**'], 'core', [
    [['**/main/**', '**/preload/**', '**/host/**', '**/cli/**', '**/renderer/**', '**/worker/zip-worker.ts'], 'is plain Node: it never imports main, preload, host, cli, renderer or the worker entry (only its protocol).'],
  ], noElectron),
  layer(['electron/worker/**'], 'worker', [
    [['**/main/**', '**/preload/**', '**/host/**', '**/cli/**', '**/renderer/**'], 'must not import main, preload, host, cli or renderer.'],
  ], noElectron),
  layer(['electron/main/**'], 'main', [[['**/renderer/**', '**/host/**', '**/cli/**'], 'must not import renderer, host or cli.']]),
  layer(['electron/preload/**'], 'preload', [
    [['**/core/**', '!**/core/contract.ts', '**/main/**', '**/host/**', '**/cli/**', '**/renderer/**', '**/worker/**'], 'is sandboxed: it imports only electron and core/contract.ts.'],
    [nodeBuiltins, 'is sandboxed: no Node modules.'],
  ]),
  layer(['electron/host/**'], 'host', [
    [['**/main/**', '**/preload/**', '**/renderer/**'], 'must not import main, preload or renderer.'],
  ], noElectron),
  layer(['electron/cli/**'], 'cli', [
    [['**/main/**', '**/preload/**', '**/renderer/**'], 'must not import main, preload or renderer.'],
  ], noElectron),
  layer(
    ['renderer/**'],
    'renderer',
    [
      [['**/electron/**', '!**/electron/core/contract.ts'], 'talks only to the contract: import types from electron/core/contract.ts only.'],
      [nodeBuiltins, 'runs in the page: no Node modules.'],
    ],
    {
      noElectron: true,
      patterns: [{ group: ['**/electron/core/contract.ts'], allowTypeImports: true, message: 'Bad layering: renderer imports only types from electron/core/contract.ts (use import type).' }],
    },
  ),
);
