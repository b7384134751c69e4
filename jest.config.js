// Two tiers: unit tests run in parallel with mocked SDK clients; integration and e2e tests share one
// moto_server started once per run (test/helpers/moto-global-setup.ts) and therefore run in band.
const common = {
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js',
    // Vega's ES modules use top-level await, which Jest's CommonJS cannot run: tests load the UMD builds the packages ship.
    '^vega$': '<rootDir>/node_modules/vega/build/vega.js',
    '^vega-lite$': '<rootDir>/node_modules/vega-lite/build/vega-lite.min.js',
    '^#shared/(.*)\\.ts$': '<rootDir>/shared/$1.ts',
    '^#shared/(.*)$': '<rootDir>/shared/$1.ts',
    '^#functions/(.*)\\.ts$': '<rootDir>/functions/$1.ts',
    '^#functions/(.*)$': '<rootDir>/functions/$1.ts',
    '^#statemachines/(.*)\\.ts$': '<rootDir>/statemachines/$1.ts',
    '^#statemachines/(.*)$': '<rootDir>/statemachines/$1.ts',
    '^#local/(.*)\\.ts$': '<rootDir>/local/$1.ts',
    '^#local/(.*)$': '<rootDir>/local/$1.ts',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/unit-env.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/reliability/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/moto-global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/moto-global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/helpers/moto-per-file.ts'],
    },
  ],
};
