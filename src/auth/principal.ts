import type { KeyLimits } from "../config/limit-fields.ts";
import type { LogBodies } from "../config/logging-config.ts";

export { KEY_LIMIT_FIELDS, type KeyLimits, periodOf } from "../config/limit-fields.ts";
/** Who is calling, as the request path sees it after authentication. */
export interface Principal {
	/** Virtual key id; null for static dev keys. */
	keyId: string | null;
	tenantId: string | null;
	/** Model allowlist (as the client names them); null = every model. */
	models: ReadonlySet<string> | null;
	limits: KeyLimits | null;
	/** The key's (else its tenant's) `log_bodies`, carried so the request path never looks it up; absent = `[logging] log_bodies`. */
	logBodies?: LogBodies;
}

/** Turns a presented client key into a Principal, or throws a 401 GatewayError. */
export interface Authenticator {
	authenticate(token: string): Principal | Promise<Principal>;
}
