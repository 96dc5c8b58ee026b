// The launcher is tests/support/emulator.mjs; bench/ and package.test.mjs still import it from here.
export * from '../../support/emulator.mjs';
