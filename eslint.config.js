// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.openmam/', 'dist/', 'packages/*/dist/', 'web/dist/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', AbortController: 'readonly', Response: 'readonly', fetch: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!(?:\\.\\./)+packages/contract/src/)\\.\\./[^/]+/\\.\\./', message: 'Import modules by their layer path (the shared wire contract, packages/contract/src, is reached from any depth).' }] }],
    },
  },
  {
    // The console runs in a browser: its globals, not Node's.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', location: 'readonly', history: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', crypto: 'readonly', fetch: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', btoa: 'readonly', atob: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', TextEncoder: 'readonly', HTMLElement: 'readonly', HTMLDivElement: 'readonly', ResizeObserver: 'readonly', matchMedia: 'readonly', Response: 'readonly', Headers: 'readonly', AbortController: 'readonly', PopStateEvent: 'readonly', Event: 'readonly', KeyboardEvent: 'readonly', MouseEvent: 'readonly' } },
  },
);
