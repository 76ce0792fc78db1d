// Lint: typescript-eslint's recommended rules, plus the two rules that keep the
// architecture honest — every src/<area>/ is entered only through its index.ts,
// and no import cycles.
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/**', 'native/build/**', 'web/dist/**', 'src/viz/web/dist/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        patterns: [{
          // From outside an area, only its door: '../pki/index.ts', never '../pki/x.ts'.
          // Test helpers under test/ are shared freely by tests and benches.
          regex: '^(?!(\\.\\./)+(src/)?[a-z-]+/index\\.ts$)(?!(\\.\\./)+test/)(\\.\\./)+.*/.+',
          message: 'Import another area through its index.ts (its only public door).',
        }],
      }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
);
