// The one documented way to declare your own claims (README "TypeScript"): augment OidcUser. It types
// req.user (Express), ctx.state.user (Koa) and what onLogin must return.
import 'oidc-session';

declare module 'oidc-session' {
  interface OidcUser {
    roles?: string[];
    tenant: string;
  }
}
