// The stage's settings, read from /config.json at start. The build holds no
// stage values, so one build serves every stage. The contract (fields and
// rules) is web/config.go's Config; this mirrors its Validate.

export type SignInMode = "cognito" | "dev";

export interface SiteConfig {
  stage: string;
  apiUrl: string; // without a trailing slash
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  signIn: SignInMode;
  cognitoEndpoint?: string;
  // The user pool's password policy, when config.json gives it.
  passwordPolicy?: PasswordPolicy;
}

export interface PasswordPolicy {
  minimumLength: number;
  requireLowercase: boolean;
  requireUppercase: boolean;
  requireNumbers: boolean;
  requireSymbols: boolean;
}

export const configPath = "/config.json";

export class ConfigError extends Error {}

export async function loadConfig(): Promise<SiteConfig> {
  let res: Response;
  try {
    res = await fetch(configPath, { cache: "no-store", headers: { accept: "application/json" } });
  } catch {
    throw new ConfigError(`${configPath} could not be fetched: check your connection and reload.`);
  }
  if (!res.ok) {
    throw new ConfigError(`${configPath} answered ${res.status}.`);
  }
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new ConfigError(`${configPath} is not valid JSON.`);
  }
  return parseConfig(raw);
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const poolIdPattern = /^([a-z]{2}(-[a-z]+)+-\d+)_[0-9A-Za-z]+$/;
const clientIdPattern = /^[\w+]{1,128}$/;
const policyRules = ["RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"] as const;
const known = new Set([
  "stage",
  "apiUrl",
  "region",
  "userPoolId",
  "userPoolClientId",
  "signIn",
  "cognitoEndpoint",
  "passwordMinimumLength",
  ...policyRules.map((r) => "password" + r),
]);

export function parseConfig(raw: unknown): SiteConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${configPath} must hold one JSON object.`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new ConfigError(`${configPath}: unknown field "${k}".`);
  }
  const str = (k: string): string => {
    const v = o[k];
    if (v === undefined) return "";
    if (typeof v !== "string") throw new ConfigError(`${configPath}: "${k}" must be a string.`);
    return v;
  };
  const c: SiteConfig = {
    stage: str("stage"),
    apiUrl: str("apiUrl").replace(/\/+$/, ""),
    region: str("region"),
    userPoolId: str("userPoolId"),
    userPoolClientId: str("userPoolClientId"),
    signIn: str("signIn") as SignInMode,
    cognitoEndpoint: str("cognitoEndpoint") || undefined,
    passwordPolicy: parsePolicy(o),
  };
  if (!c.stage) throw new ConfigError(`${configPath}: "stage" is required.`);
  checkURL("apiUrl", c.apiUrl);
  if (!regionPattern.test(c.region)) throw new ConfigError(`${configPath}: "region" must be an AWS region such as us-east-1.`);
  switch (c.signIn) {
    case "cognito": {
      const m = poolIdPattern.exec(c.userPoolId);
      if (!m) throw new ConfigError(`${configPath}: "userPoolId" must be a Cognito user pool id: its region, _ and letters or digits.`);
      if (m[1] !== c.region) throw new ConfigError(`${configPath}: "userPoolId" is in ${m[1]} but "region" is ${c.region}.`);
      if (!clientIdPattern.test(c.userPoolClientId)) throw new ConfigError(`${configPath}: "userPoolClientId" must be the user pool client's id.`);
      if (c.cognitoEndpoint) checkURL("cognitoEndpoint", c.cognitoEndpoint);
      break;
    }
    case "dev":
      if (c.userPoolId || c.userPoolClientId || c.cognitoEndpoint || c.passwordPolicy) {
        throw new ConfigError(
          `${configPath}: dev sign-in uses no user pool; leave "userPoolId", "userPoolClientId", "cognitoEndpoint" and the password policy out.`,
        );
      }
      break;
    default:
      throw new ConfigError(`${configPath}: "signIn" must be "cognito" or "dev".`);
  }
  return c;
}

// parsePolicy reads the password policy's fields as web.Config does: a rule left out
// is not required, and no field at all means no policy.
function parsePolicy(o: Record<string, unknown>): PasswordPolicy | undefined {
  const n = o.passwordMinimumLength;
  const given = Object.keys(o).filter((k) => k.startsWith("password"));
  if (!given.length) return undefined;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 6 || n > 99 || given.some((k) => k !== "passwordMinimumLength" && typeof o[k] !== "boolean")) {
    throw new ConfigError(`${configPath}: the password policy needs passwordMinimumLength from 6 to 99, and its passwordRequire… rules true or false.`);
  }
  const rule = (r: string) => o["password" + r] === true;
  return {
    minimumLength: n,
    requireLowercase: rule("RequireLowercase"),
    requireUppercase: rule("RequireUppercase"),
    requireNumbers: rule("RequireNumbers"),
    requireSymbols: rule("RequireSymbols"),
  };
}

function checkURL(field: string, value: string) {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${configPath}: "${field}" must be an absolute URL.`);
  }
  const loopback = u.hostname === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === "[::1]";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new ConfigError(`${configPath}: "${field}" must use https (plain http only on this machine's loopback).`);
  }
  if (u.search || u.hash || u.username || u.password) {
    throw new ConfigError(`${configPath}: "${field}" must have no query, fragment or credentials.`);
  }
}
