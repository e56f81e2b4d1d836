import type { DestroySession, OidcEngine, RouteMatch, RouteName } from './engine.js';
import type { OidcUser } from './session/user.js';
import { asRouteError, OidcError } from './errors.js';
import { rawQuery } from './http/messages.js';
import type { HttpRequest, HttpResult } from './http/messages.js';
import type { SessionPort } from './session/session-data.js';

/**
 * The methods each of our routes answers; any other method falls through to the app (a 404 or the app's
 * own route). Back-channel logout takes every method so that the engine can answer 405 itself.
 */
export const ROUTE_METHODS: Readonly<Record<RouteName, ReadonlySet<string>>> = {
  login: new Set(['GET', 'HEAD']),
  callback: new Set(['GET', 'POST']),
  logout: new Set(['GET', 'POST']),
  backchannelLogout: new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
};

/** Our route for this request, when its path is one and its method one that route answers. */
export function matchRoute(engine: OidcEngine, url: string, method: string): RouteMatch | undefined {
  const route = engine.route(url);
  return route !== undefined && ROUTE_METHODS[route.name].has(method) ? route : undefined;
}

/**
 * A route's failure, for the adapter to pass on: marked uncached (asRouteError), and returned when it is
 * an OidcError the app's `onError` may render; undefined: it goes to the framework's error handling as it is.
 */
export function routeFailure(err: unknown): OidcError | undefined {
  asRouteError(err);
  return err instanceof OidcError ? err : undefined;
}

/** What a route needs from the framework, as each adapter reaches it. */
export interface RouteIo {
  readonly request: HttpRequest;
  /** The request's session (throws when the session middleware is missing). Back-channel logout has none. */
  session(): SessionPort;
  /** The urlencoded body of a POST (form_post callback, back-channel logout token). */
  readForm(): Promise<string>;
  /** Destroys a stored session by id (back-channel logout). */
  destroySession: DestroySession;
  /** The framework's own request, handed to the hooks. */
  readonly appRequest: unknown;
  /** The user logging out, for `onLogout`. */
  user(): OidcUser | undefined;
}

/** The answer of one of our routes: which engine use case it is and where its parameters come from. */
export async function answerRoute(engine: OidcEngine, route: RouteMatch, io: RouteIo): Promise<HttpResult> {
  const { request } = io;
  switch (route.name) {
    case 'backchannelLogout': {
      // A body that cannot be read is judged like an empty one (400 from the logout token check).
      const body = request.method === 'POST' ? await io.readForm().catch(() => '') : '';
      return engine.backchannelLogout(request, body, io.destroySession, route.provider);
    }
    case 'login':
      return engine.login(request, io.session());
    case 'callback': {
      const session = io.session();
      const params = request.method === 'POST' ? await io.readForm() : rawQuery(request.url);
      return engine.callback(request, session, params, route.provider, io.appRequest);
    }
    case 'logout':
      return engine.logout(request, io.session(), io.appRequest, io.user());
  }
}
