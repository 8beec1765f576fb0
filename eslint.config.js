// Lint: typescript-eslint's recommended type-aware rules over src/ and test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'src/gen/', 'node_modules/', 'test-artifacts/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after'] }] },
      ],
    },
  },
  {
    // In the product no promise is left to fail unheard. One that is not awaited or returned gets
    // a rejection handler (`.catch(handler)`, `.then(ok, handler)`) that ends *its own* session or
    // request with a clear error: in the core Session.background(), in a transport
    // `session.fail(error)` plus the transport's own close, for a request its error status.
    // `void promise` is refused: it once let one session's bug end the process. (Tests keep
    // `void describe(...)`, which node:test reports itself.)
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
