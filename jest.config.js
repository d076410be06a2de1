/** Jest runs the TypeScript specs through ts-jest (type-checking is `tsc --noEmit`, run first by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  // Examples import the package by name, as users do; specs run them against the sources.
  moduleNameMapper: {
    '^hv-balloon-sim$': '<rootDir>/index.ts',
    '^hv-balloon-sim/(protocol|machines|testing)$': '<rootDir>/$1/index.ts',
  },
  // Specs that spawn the CLI run bin/, which runs dist/: bring dist/ up to date with the sources first.
  globalSetup: '<rootDir>/spec/build-dist.js',
  testTimeout: 60000,
};
