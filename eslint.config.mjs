// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'test-output/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A dropped promise is a lost payment or an unacknowledged notification.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test report through the runner; awaiting them is not needed.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Workflow code is replayed deterministically in a sandbox: no Node built-ins, no I/O,
    // and only *types* from activities (the implementations live in the worker).
    files: ['src/workflows/**/*.ts', 'bench/bare/workflows.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflow code may not import Node built-ins.' },
            {
              group: [
                'fs',
                'path',
                'os',
                'crypto',
                'http',
                'https',
                'net',
                'child_process',
                'url',
                'util',
                'stream',
                'buffer',
                'events',
              ],
              message: 'Workflow code may not import Node built-ins.',
            },
            {
              group: ['undici', 'fast-xml-parser', 'iconv-lite'],
              message: 'No I/O libraries in workflow code.',
            },
            {
              group: ['**/activities', '**/activities/*', '!**/activities/types'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities.',
            },
            {
              group: ['**/alipay/*', '**/alipay'],
              allowTypeImports: true,
              message: 'Workflows import only types from the gateway layer.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'process',
          message: 'Config reaches workflows as arguments, never from process.env.',
        },
        { name: 'setTimeout', message: 'Use sleep() / condition() from @temporalio/workflow.' },
      ],
    },
  },
);
