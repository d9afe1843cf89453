// Lint config for the whole workspace. Module boundaries are the architecture's dependency
// rules (see docs/architecture.md); tools/checks proves in CI that breaking them is reported.
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import regexp from 'eslint-plugin-regexp';

/** Who may import whom, by nx tag (set in each package.json under "nx": { "tags": [...] }). */
const productionConstraints = [
  { sourceTag: 'scope:public', onlyDependOnLibsWithTags: ['scope:public'] },
  { sourceTag: 'scope:internal', onlyDependOnLibsWithTags: ['scope:public', 'scope:internal'] },
  {
    sourceTag: 'scope:app',
    onlyDependOnLibsWithTags: ['scope:public', 'scope:internal', 'scope:testing'],
  },
  { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:public', 'scope:testing'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
  // The gateway client shares no types with the gateway service: it may only use errors and
  // the HTTP layer of the API clients (which holds no wire types).
  {
    sourceTag: 'lib:gateway-client',
    onlyDependOnLibsWithTags: ['lib:errors', 'lib:api-client'],
  },
];

/** Test files may additionally use the test kit. */
const testConstraints = productionConstraints.map((c) =>
  c.onlyDependOnLibsWithTags.some((t) => t === '*' || t === 'scope:testing')
    ? c
    : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'scope:testing'] },
);

const boundaries = (depConstraints) => ({
  '@nx/enforce-module-boundaries': [
    'error',
    {
      enforceBuildableLibDependency: true,
      banTransitiveDependencies: false,
      allow: [],
      depConstraints,
    },
  ],
});

const testFiles = ['**/*.test.ts', '**/test/**/*.ts', '**/vitest.config.ts', '**/bench/**/*.ts'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  prettier,
  {
    // every regex of the repo: no super-linear backtracking or move (a hostile input must
    // never block the event loop)
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': 'error',
    },
  },
  {
    // tools/checks/fixtures break the rules on purpose: the boundary test lints them itself.
    ignores: [
      '**/dist',
      '**/docs/api',
      '**/node_modules',
      '**/.nx',
      '**/coverage',
      'tools/checks/fixtures/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      ...boundaries(productionConstraints),
      'no-console': 'error',
    },
  },
  {
    // the typescript-eslint plugin is registered for TypeScript files only
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      ...boundaries(testConstraints),
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The test kit forwards service logs into the test output; apps and tools print for users.
    files: ['libs/testkit/**/*.ts', 'apps/**/*.ts', 'tools/**/*.{ts,mjs,js}'],
    rules: { 'no-console': 'off' },
  },
];
