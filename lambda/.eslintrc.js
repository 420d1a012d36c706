module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // CDK constructs register themselves in their scope: `new Construct(...)` is the idiom.
      files: ['src/infra/**'],
      rules: { 'no-new': 'off' },
    },
    {
      files: ['**/*.test.ts'],
      rules: {
        // CDK template assertions (t.hasResourceProperties …) are assertions too.
        'jest/expect-expect': [
          'warn',
          { assertFunctionNames: ['expect', 't.*'] },
        ],
        // The end-to-end tests run the real backend plugin against this Lambda on purpose.
        '@backstage/no-mixed-plugin-imports': 'off',
        // ...through the backend plugin's test helpers, which are not part of its published package.
        '@backstage/no-relative-monorepo-imports': 'off',
      },
    },
  ],
});
