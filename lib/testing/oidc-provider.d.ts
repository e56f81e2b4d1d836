/**
 * Minimal ambient type declarations for `oidc-provider` (v9), which ships no
 * types of its own. Only the surface used by the embedded test IdP is typed;
 * everything else is intentionally loose. If `@types/oidc-provider` is ever
 * added to the project, delete this file.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { EventEmitter } from 'node:events';

  export type UnknownObject = Record<string, unknown>;

  export interface Client {
    readonly clientId: string;
    readonly clientName?: string;
    readonly clientAuthMethod: string;
    readonly applicationType: string;
    readonly backchannelLogoutUri?: string;
    grantTypeAllowed(type: string): boolean;
    [key: string]: unknown;
  }

  export interface Session {
    readonly accountId?: string;
    readonly uid: string;
    grantIdFor(clientId: string): string | undefined;
    [key: string]: unknown;
  }

  export interface ClaimsFn {
    (use: string, scope: string, claims: UnknownObject, rejected: string[]): UnknownObject | Promise<UnknownObject>;
  }

  export interface Account {
    accountId: string;
    claims: ClaimsFn;
    [key: string]: unknown;
  }

  export interface ResourceServer {
    readonly identifier: string;
    readonly scopes: Set<string>;
    [key: string]: unknown;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: UnknownObject;
  }

  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface OIDCContext {
    readonly route?: string;
    readonly provider: Provider;
    readonly params?: UnknownObject;
    readonly client?: Client;
    readonly session?: Session;
    readonly account?: Account;
    readonly result?: InteractionResults;
    readonly resourceServers: Record<string, ResourceServer>;
    readonly requestParamScopes: Set<string>;
    readonly requestParamOIDCScopes: Set<string>;
    readonly requestParamClaims: Set<string>;
    readonly entities: UnknownObject;
    urlFor(name: string, opt?: UnknownObject): string;
    [key: string]: unknown;
  }

  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    url: string;
    href: string;
    host: string;
    status: number;
    type: string;
    body: unknown;
    req: IncomingMessage;
    res: ServerResponse;
    readonly oidc: OIDCContext;
    set(field: string, value: string): void;
    [key: string]: unknown;
  }

  export interface Prompt {
    name: string;
    reasons: string[];
    details: UnknownObject & {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: Prompt;
    readonly params: UnknownObject & { client_id?: string; scope?: string };
    readonly session?: { accountId: string; uid: string; cookie?: string; acr?: string; amr?: string[] };
    readonly grantId?: string;
    readonly returnTo: string;
    readonly lastSubmission?: InteractionResults;
    [key: string]: unknown;
  }

  export class Grant {
    constructor(properties?: { accountId?: string; clientId?: string });
    readonly jti: string;
    accountId?: string;
    clientId?: string;
    addOIDCScope(scope: string): undefined;
    addOIDCClaims(claims: string[]): undefined;
    addResourceScope(resource: string, scope: string): undefined;
    getOIDCScope(): string;
    save(ttl?: number): Promise<string>;
    destroy(): Promise<void>;
    static find(id: string, options?: UnknownObject): Promise<Grant | undefined>;
  }

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown;

  export interface Configuration {
    [key: string]: unknown;
  }

  class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    keys: unknown;
    readonly Grant: typeof Grant;
    readonly Client: { find(id: string): Promise<Client | undefined> };
    readonly Session: { find(cookie: string): Promise<Session | undefined> };
    readonly AccessToken: { find(value: string): Promise<UnknownObject | undefined> };
    readonly RefreshToken: { find(value: string): Promise<UnknownObject | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): this;
    urlFor(name: string, opt?: UnknownObject): string;
    pathFor(name: string, opt?: UnknownObject): string;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    status: number;
    statusCode: number;
    expose: boolean;
    error: string;
    error_description?: string;
  }

  export const errors: {
    OIDCProviderError: typeof OIDCProviderError;
    InvalidTarget: new (description?: string, detail?: string) => OIDCProviderError;
    InvalidRequest: new (description?: string, code?: number, detail?: string) => OIDCProviderError;
    SessionNotFound: new (description?: string) => OIDCProviderError;
    AccessDenied: new (description?: string, detail?: string) => OIDCProviderError;
    [name: string]: new (...args: never[]) => OIDCProviderError;
  };

  export { Provider };
  export default Provider;
}
