/**
 * Options of express-openid-connect that people copy over when they migrate, and what replaces each.
 * An unknown option is always refused; for these the message says what to write instead.
 */
const EOC_REPLACEMENTS: Readonly<Record<string, string>> = {
  issuerBaseURL: 'use "issuer" (the issuer URL, without /.well-known/openid-configuration)',
  baseURL: 'use "baseUrl"',
  clientID: 'use "clientId"',
  secret: 'express-session signs the cookie: session({ secret })',
  authRequired: 'guard routes with auth.requireAuth() (app.use(auth.requireAuth()) for a whole app)',
  errorOnRequiredAuth: 'requireAuth() already answers 401 to requests that are not browser navigations',
  auth0Logout: 'use "idpLogout: true" (Auth0 offers the standard end-session endpoint)',
  logoutParams: 'the end-session request is built for you (id_token_hint, post_logout_redirect_uri, state)',
  session: 'configure express-session (or koa-session) itself; the login lifetime is "absoluteDuration"',
  transactionCookie: 'pending logins are kept in the session; see "transactionTtl" and "maxTransactions"',
  legacySameSiteCookie: 'pending logins are kept in the session; no extra cookie exists',
  afterCallback: 'use "onLogin"',
  getLoginState: 'pass returnTo to res.oidc.login() or /login?returnTo=',
  identityClaimFilter: 'protocol claims are left out of req.user already; reshape the user in "onLogin"',
  clientAssertionSigningKey: 'use "privateKey" (a JWK or a PKCS#8 PEM)',
  clientAssertionSigningAlg: 'the algorithm comes from "privateKey" (its "alg")',
  discoveryCacheMaxAge: 'discovery is cached per oidc() instance and retried after a failure',
  httpUserAgent: 'set headers in your own "customFetch"',
  httpAgent: 'pass your own "customFetch"',
  enableTelemetry: 'oidc-session sends no telemetry; remove it',
  tokenEndpointParams: 'not supported',
  requestObjectSigningKey: 'use "requestObject": { key, alg } (docs/request-objects.md)',
  useMtls: 'not supported',
};

/** The replacement hint for an express-openid-connect option name, if `name` is one. */
export function eocReplacement(name: string): string | undefined {
  return Object.hasOwn(EOC_REPLACEMENTS, name) ? EOC_REPLACEMENTS[name] : undefined;
}

export const MIGRATION_GUIDE = 'docs/migrating-from-express-openid-connect.md';
