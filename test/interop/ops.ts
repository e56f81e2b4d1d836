/**
 * The two independent OPs of the interop suite, started by the scripts in test/interop/ops/ (copies of
 * ../shared/interop/, see its README there). The scripts install what is missing with apt (root needed the
 * first time), configure a client and users, and wait for discovery. Anything that goes wrong is a test
 * failure with the script's output in the message: this suite never skips.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const OPS = join(import.meta.dirname, 'ops');
const DATA = '/tmp/oidc-session-interop';

/**
 * Where the example app listens for each OP (their clients are registered with these redirect URIs): one
 * port each, so that the two files can run at the same time.
 */
// Ports below Linux's ephemeral range (32768-60999): a busy machine's outgoing connections can hold a port
// in that range, and a listener there then fails with EADDRINUSE (seen in CI with LemonLDAP on 42100).
export const LEMONLDAP_APP_URL = 'http://127.0.0.1:22300';
export const GLEWLWYD_APP_URL = 'http://127.0.0.1:22301';

function run(script: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(OPS, script), ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
        reject(new Error(`The interop suite could not start its OP: ${script} failed (${err.message.split('\n')[0]}). ` +
          `It installs packages with apt the first time, which needs root. Output:\n${tail}`));
      } else resolve(stdout);
    });
  });
}

/**
 * LemonLDAP::NG's FastCGI workers are slow on their first request (Perl compiles the portal); on a busy
 * machine the app's first discovery then times out. Ask every worker once before the tests start.
 */
async function warmUp(issuer: string): Promise<void> {
  const discovery = `${issuer}/.well-known/openid-configuration`;
  const once = async (): Promise<void> => {
    const res = await fetch(discovery, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`${discovery} answered ${res.status}`);
    await res.arrayBuffer();
  };
  await Promise.all([once(), once(), once(), once()]);
}

export interface LemonldapSettings {
  /** JWT access tokens instead of LL::NG's default opaque ones. */
  jwtAccessTokens?: boolean;
  /** Default RS256; LL::NG's own default for a new client is HS512. */
  idTokenAlg?: string;
  /** Access token lifetime in seconds. */
  accessTokenTtl?: number;
}

export interface Op {
  name: string;
  /** Where the example app must listen (the registered redirect URI's origin). */
  appUrl: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Everything the example app needs, as environment variables (PORT included). */
  env: Record<string, string>;
  /** The OP's own log file, where it has one the tests read (Glewlwyd: its back-channel deliveries). */
  log?: string;
  stop(): Promise<void>;
}

/** (Re)starts LemonLDAP::NG 2.16 on 127.0.0.1:22100 with fresh sessions and no stored consent. */
export async function startLemonldap(settings: LemonldapSettings = {}): Promise<Op> {
  const home = join(DATA, 'lemonldap');
  // start.sh logs the apt install into LLNG_HOME before it creates it
  await mkdir(home, { recursive: true });
  const env = {
    LLNG_HOME: home,
    APP_PORT: new URL(LEMONLDAP_APP_URL).port,
    LLNG_AT_JWT: settings.jwtAccessTokens ? '1' : '0',
    LLNG_ID_TOKEN_ALG: settings.idTokenAlg ?? 'RS256',
    LLNG_AT_TTL: String(settings.accessTokenTtl ?? 30),
  };
  await run('lemonldap/stop.sh', [], env, 30_000);
  await run('lemonldap/start.sh', [], env, 300_000);
  const op = { name: 'LemonLDAP::NG', appUrl: LEMONLDAP_APP_URL, issuer: 'http://127.0.0.1:22100', clientId: 'exampleapp', clientSecret: 'exampleappsecret' };
  await warmUp(op.issuer);
  return {
    ...op,
    env: { PORT: new URL(op.appUrl).port, OIDC_ISSUER: op.issuer, OIDC_CLIENT_ID: op.clientId, OIDC_CLIENT_SECRET: op.clientSecret, OIDC_SCOPE: 'openid profile email roles' },
    stop: async () => void (await run('lemonldap/stop.sh', [], env, 30_000)),
  };
}

/** Starts Glewlwyd 2.7 on 127.0.0.1:4593 (or re-runs its setup) with the example app's URIs registered. */
export async function startGlewlwyd(): Promise<Op> {
  const dir = join(DATA, 'glewlwyd');
  const env = {
    OIDC_REDIRECT_URIS: `${GLEWLWYD_APP_URL}/callback`,
    OIDC_POST_LOGOUT_REDIRECT_URIS: `${GLEWLWYD_APP_URL}/`,
    OIDC_BACKCHANNEL_LOGOUT_URI: `${GLEWLWYD_APP_URL}/backchannel-logout`,
    GLEWLWYD_LOG_LEVEL: 'WARNING',
  };
  const issuer = (await run('glewlwyd/start.sh', [dir], env, 300_000)).trim().split('\n').pop() ?? '';
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(issuer)) throw new Error(`glewlwyd/start.sh printed no issuer (got ${JSON.stringify(issuer)})`);
  const op = { name: 'Glewlwyd', appUrl: GLEWLWYD_APP_URL, issuer, clientId: 'rptest', clientSecret: 'rptestsecret' };
  return {
    ...op,
    env: { PORT: new URL(op.appUrl).port, OIDC_ISSUER: issuer, OIDC_CLIENT_ID: op.clientId, OIDC_CLIENT_SECRET: op.clientSecret, OIDC_SCOPE: 'openid profile email' },
    log: join(dir, 'glewlwyd.log'),
    stop: async () => void (await run('glewlwyd/stop.sh', [dir], {}, 30_000)),
  };
}
