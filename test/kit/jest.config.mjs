// Jest runs the testing kit's example as a user's ES module project would:
// NODE_OPTIONS=--experimental-vm-modules npx jest --config test/kit/jest.config.mjs
export default {
  rootDir: '.',
  testMatch: ['<rootDir>/*.jest.mjs'],
  transform: {},
  testEnvironment: 'node',
};
