module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // CDK constructs register themselves in their scope: `new Construct(...)` is the idiom.
      files: ['src/infra/**'],
      rules: { 'no-new': 'off' },
    },
  ],
});
