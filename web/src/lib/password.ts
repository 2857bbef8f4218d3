// What the user pool asks of a new password, in words, from the policy config.json
// gives (web.Config.PasswordPolicy, the stack's pool's own).

import type { PasswordPolicy } from "./config";

export function passwordHint(p?: PasswordPolicy): string {
  if (!p) return "Cognito says so if it does not meet your account's password policy.";
  const needs: string[] = [];
  if (p.requireLowercase && p.requireUppercase) needs.push("upper- and lowercase letters");
  else if (p.requireLowercase) needs.push("a lowercase letter");
  else if (p.requireUppercase) needs.push("an uppercase letter");
  if (p.requireNumbers) needs.push("a digit");
  if (p.requireSymbols) needs.push("a symbol such as ! or #");
  const last = needs.pop();
  const list = needs.length ? `${needs.join(", ")} and ${last}` : last;
  return `At least ${p.minimumLength} characters${list ? `, with ${list}` : ""}.`;
}
