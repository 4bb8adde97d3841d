// Test kinds by suffix: *.unit.spec.ts (pure, no I/O), *.int.spec.ts (real Kafka,
// Postgres, Redis), *.e2e.spec.ts (through the running apps).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@loyalty/(domain|kafka|read-models|config)$': '<rootDir>/libs/$1/src' },
  testEnvironment: 'node',
};
module.exports = {
  // Integration suites share one broker and two cores: scripts/test.sh runs them in band.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts,test}/**/*.unit.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,scripts,test}/**/*.{int,e2e}.spec.ts'],
    },
  ],
};
