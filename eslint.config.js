// Lint: typescript-eslint's recommended rules, plus the two rules that keep the
// architecture honest — every src/<area>/ is entered only through its index.ts,
// and no import cycles.
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

export default tseslint.config(
  // bench/results/ is scratch (gitignored): lean builds and A/B trees the benchmarks write.
  { ignores: ['node_modules/**', 'native/build/**', 'web/dist/**', 'src/viz/web/dist/**', 'bench/results/**'] },
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
          // From outside an area, only its doors: '../pki/index.ts', never '../pki/x.ts';
          // an area whose clients run in other processes also has a light client door,
          // '../identity/client.ts' (the sidecar loads no service code through it).
          // Test helpers under test/ are shared freely by tests and benches.
          regex: '^(?!(\\.\\./)+(src/)?[a-z0-9-]+/(index|client)\\.ts$)(?!(\\.\\./)+test/)(\\.\\./)+.*/.+',
          message: 'Import another area through its index.ts door (or, for a client of its service, its client.ts door).',
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
