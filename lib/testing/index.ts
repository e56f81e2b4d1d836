export { createTestIdp, createTestIdpStore, CookieJar, TestIdpError, TestIdpStore, DEFAULT_TEST_USERS } from './test-idp.js';
export type { ClientMetadata, IdpEndpoint, IdpReturn, TestIdp, TestIdpOptions, TestIdpProvider, TestIdpResourceServer, TestIdpSigningKey, TestIdpUser } from './test-idp.js';
export { loginAs } from './login-as.js';
export type { AppHandler, LoginAgent, LoginAgentRequest, LoginAsOptions, LoginAsResult, LoginAsUser } from './login-as.js';
