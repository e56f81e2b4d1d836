export { createTestIdp, CookieJar, TestIdpError, DEFAULT_TEST_USERS } from './test-idp.js';
export type { ClientMetadata, IdpEndpoint, IdpReturn, TestIdp, TestIdpOptions, TestIdpProvider, TestIdpResourceServer, TestIdpUser } from './test-idp.js';
export { loginAs } from './login-as.js';
export type { AppHandler, LoginAgent, LoginAgentRequest, LoginAsOptions, LoginAsResult, LoginAsUser } from './login-as.js';
