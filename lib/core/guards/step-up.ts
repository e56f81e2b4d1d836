/** What a route asks of the login: `acr_values` (space separated) and/or a maximum age in seconds. */
export interface StepUpRequirement {
  acrValues?: string;
  maxAge?: number;
}

/**
 * The authorization parameters a new login needs when the session's login does not meet the route's
 * requirement, or undefined when it does.
 */
export function stepUpParams(
  claims: Record<string, unknown>,
  requirement: StepUpRequirement,
  nowSec: number,
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  if (requirement.acrValues) {
    const wanted = requirement.acrValues.split(' ').filter(Boolean);
    if (!(typeof claims.acr === 'string' && wanted.includes(claims.acr))) params.acr_values = wanted.join(' ');
  }
  if (requirement.maxAge !== undefined) {
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
    if (authTime === undefined || nowSec - authTime > requirement.maxAge) params.max_age = String(requirement.maxAge);
  }
  if (Object.keys(params).length === 0) return undefined;
  // A login that must satisfy one requirement must still satisfy the other.
  if (requirement.acrValues && !params.acr_values) params.acr_values = requirement.acrValues;
  if (requirement.maxAge !== undefined && !params.max_age) params.max_age = String(requirement.maxAge);
  return params;
}

/** RFC 9470 challenge for an API request whose login is not strong or recent enough. */
export function stepUpChallenge(realm: string, params: Record<string, string>): string {
  const attrs = [`realm="${realm}"`, 'error="insufficient_user_authentication"'];
  if (params.acr_values) attrs.push(`acr_values="${params.acr_values}"`);
  if (params.max_age) attrs.push(`max_age=${params.max_age}`);
  return 'Bearer ' + attrs.join(', ');
}

