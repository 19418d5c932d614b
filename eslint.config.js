// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'out/', 'renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // core/ is the controller: it logs through the logger it is handed, never the console, and
    // never reaches into Electron or React.
    files: ['core/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'react-dom'],
          patterns: ['electron/*', 'react/*', '**/renderer/**', '**/electron/**'],
        },
      ],
    },
  },
  {
    // The layers under the API know nothing of it: the API composes them, never the reverse.
    files: ['core/{cluster,model,raft,replication,storage,transport,pki,runtime,router,client}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'react-dom'],
          patterns: ['electron/*', 'react/*', '**/renderer/**', '**/electron/**', '**/api/**'],
        },
      ],
    },
  },
  {
    // The Raft state machine is pure: no clock, no randomness, no I/O.
    files: ['core/raft/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'process',
        'performance',
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'raft reads no clock' },
        { object: 'Math', property: 'random', message: 'raft takes an injected RNG' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: 'raft reads no clock' },
      ],
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'crypto', '../*'] }],
    },
  },
  {
    // client/ is the API client the UI, the CLI and a joining node share: the contract only, no
    // Node, no DOM-only code, nothing of the node's.
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/core/**', '**/renderer/**', '**/electron/**', 'node:*', 'electron', 'react'] },
      ],
    },
  },
  {
    // renderer/ (the admin UI) knows the node only through its REST contract: no core/, no Node.
    files: ['renderer/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/core/**', '**/electron/**', 'node:*', 'electron', 'electron/*'] },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only' },
        { object: 'describe', property: 'only' },
        { object: 'test', property: 'only' },
      ],
    },
  },
);
