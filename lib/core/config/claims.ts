/**
 * The standard claims of OpenID Connect Core 1.0 §5.1, with their JSON types. Every one is optional: an
 * IdP sends what the scopes (`profile`, `email`, `address`, `phone`) and its configuration allow.
 */
export interface StandardClaims {
  /** Full name, in displayable form. */
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  /** The name the user wants to be called; not unique, not stable: never use it as a key (use `sub`). */
  preferred_username?: string;
  /** URL of the profile page. */
  profile?: string;
  /** URL of the profile picture. */
  picture?: string;
  website?: string;
  email?: string;
  /** Whether the IdP verified that the user controls `email`. Check it before trusting the address. */
  email_verified?: boolean;
  gender?: string;
  /** `YYYY-MM-DD` (or `YYYY`, or `0000-MM-DD`). */
  birthdate?: string;
  /** IANA time zone, e.g. `Europe/Paris`. */
  zoneinfo?: string;
  /** BCP 47 language tag, e.g. `en-US`. */
  locale?: string;
  /** E.164 is recommended, e.g. `+1 (425) 555-1212`. */
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: AddressClaim;
  /** When the user's information was last updated, seconds since the epoch. */
  updated_at?: number;
}

/** The `address` claim (OIDC Core §5.1.1). */
export interface AddressClaim {
  /** The whole address, lines separated by `\n`. */
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** The claims of a verified ID token (OIDC Core §2), as `onLogin` and `req.oidc.idTokenClaims` see them. */
export interface IdTokenClaims extends StandardClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  acr?: string;
  amr?: string[];
  azp?: string;
  sid?: string;
  [claim: string]: unknown;
}

/** A userinfo response (OIDC Core §5.3.2): `sub` plus whatever claims the IdP releases. */
export interface UserinfoClaims extends StandardClaims {
  sub: string;
  [claim: string]: unknown;
}
