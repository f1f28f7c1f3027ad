// npm run lint: typescript-eslint's type-checked recommended rules over src/, test/ and scripts/,
// then Prettier's check and the type check of every file (tsconfig.check.json).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'data/**', 'samples/**', 'scratch-tmp/**', 'test/fakes/bin/**', 'test/fakes/env-bin/**', 'bin/**', '**/*.cjs', '**/*.mjs']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {parserOptions: {project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname}},
    rules: {
      // text from outside is cleaned and escaped by matching control characters on purpose
      'no-control-regex': 'off',
      // async methods that implement an async interface without awaiting anything are fine
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_'}],
    },
  },
  {
    // a function longer than a screen is a smell: src/ keeps each one to 80 lines, comments included
    files: ['src/**/*.ts'],
    rules: {'max-lines-per-function': ['error', {max: 80}]},
  },
  {
    // tests and scripts read the CLI's JSON output and fixtures as untyped values on purpose
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // chai's property assertions (expect(x).to.be.NaN), and page.evaluate's results typed by assertion
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
)
