/**
 * oidc-provider 9 (the embedded development IdP) prints "Unsupported runtime. Use Node.js v22.x LTS" when
 * it is loaded on Node 20. It runs fine there for development and tests (the whole suite runs on Node
 * 20.19), and oidc-session itself supports Node 20.19+; the README explains it. This drops that one line,
 * once, without touching the dependency: imported first by the example servers and by the tests' setup.
 */
const NOTICE = 'oidc-provider WARNING: Unsupported runtime';
const original = console.warn;
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && args[0].includes(NOTICE)) {
    console.warn = original;
    return;
  }
  original(...args);
};
