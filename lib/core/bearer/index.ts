export { BearerVerifier, checkScopes, claimsDenied, isAuthInfo } from './verifier.js';
export type { AuthInfo, BearerRequest, IssuerEndpoints } from './verifier.js';
export { createBearerVerifier, engineBearerVerifier } from './sources.js';
export { carriesAccessToken } from './credentials.js';
export type { TokenScheme } from './challenge.js';
export type { BearerGuardOptions, BearerOptions, BearerVerifyOptions, DpopOptions, IntrospectionOptions } from './options.js';
