// The repo's rules, plus Vue single-file components parsed with TypeScript.
import vue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the repo's own lint config, not a lib
import root from '../../eslint.config.mjs';

export default [
  ...root,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
    rules: { 'no-console': 'error' },
  },
  { ignores: ['e2e-artifacts/**'] },
  prettier,
];
