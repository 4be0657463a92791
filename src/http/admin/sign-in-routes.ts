import type { FastifyInstance } from 'fastify';
import type { SignInLog } from '../../core/app-protection/sign-in-log.ts';
import { OpenMamError } from '../../errors.ts';
import type { SignInRecord } from '../../store/app-protection-records.ts';
import type { SignInCursor, SignInFilter } from '../../store/app-protection-roles.ts';
import { collection } from './graph.ts';
import { parseFilter, readQueryOptions, refuseClause, type FilterClause } from './odata.ts';

/**
 * The sign-in log as Entra's: Graph `auditLogs/signIns` (learn.microsoft.com/graph/api/resources/signin), one
 * `signIn` per access decision, newest first, in server-driven pages (`@odata.nextLink` with an opaque
 * `$skiptoken`: learn.microsoft.com/graph/paging), filtered by the subset of `$filter` below. Admin or Reader.
 */
export interface SignInRoutesOptions {
  signIns: SignInLog;
  /** `<public url>/graph/<version>`: the root of `@odata.context` and `@odata.nextLink`. */
  baseUrl: string;
  /** Graph beta lets the `$` of query options be left out; v1.0 does not. */
  dollarOptional: boolean;
}

const SIGN_INS = '/auditLogs/signIns';
/** Page size when `$top` is absent, and the most a page holds (Entra's own sign-in pages hold up to 1,000). */
export const MAX_SIGN_IN_PAGE = 1000;
/**
 * Entra's code and text for a sign-in blocked by conditional access (AADSTS53003, BlockedByConditionalAccess:
 * learn.microsoft.com/entra/identity-platform/reference-error-codes). OpenMAM answers every denial with it.
 */
export const DENIED_ERROR_CODE = 53003;
const BLOCKED_BY_POLICY = 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.';
const BLOCKED_BY_APP_PROTECTION = 'Access has been blocked by app protection: see additionalDetails for the reasons.';

const SUPPORTED_FILTER =
  "use userId, userPrincipalName, appId or resourceId eq 'value'; status/errorCode eq or ne 0; conditionalAccessStatus eq 'success', 'failure' or 'notApplied'; createdDateTime ge, gt, le or lt a DateTimeOffset (2026-12-01T00:00:00Z); joined by and";

/**
 * Graph `signIn` (beta and v1.0 share these properties). OpenMAM extensions, where Graph has no property:
 * `deviceDetail.deviceIdVerified` (whether the user's token carried the device id, the `deviceid` claim, or the
 * caller only claimed it) and `managedAppRegistrationId` (the registration the decision judged).
 */
export function presentSignIn(r: SignInRecord): Record<string, unknown> {
  const denied = r.decision === 'deny';
  return {
    id: r.id,
    createdDateTime: new Date(r.createdAt).toISOString(),
    userId: r.userId,
    userPrincipalName: r.userPrincipalName,
    appId: r.appId,
    appDisplayName: r.appDisplayName,
    ipAddress: r.ipAddress,
    resourceId: r.resourceId,
    resourceDisplayName: r.resourceDisplayName,
    correlationId: r.correlationId,
    conditionalAccessStatus: r.conditionalAccessStatus,
    appliedConditionalAccessPolicies: r.appliedPolicies.map((p) => ({
      id: p.id,
      displayName: p.displayName,
      enforcedGrantControls: p.enforcedGrantControls,
      enforcedSessionControls: [],
      result: p.result,
    })),
    status: {
      errorCode: denied ? DENIED_ERROR_CODE : 0,
      failureReason: denied ? (r.conditionalAccessStatus === 'failure' ? BLOCKED_BY_POLICY : BLOCKED_BY_APP_PROTECTION) : null,
      additionalDetails: r.reasons.length > 0 ? r.reasons.join(', ') : null,
    },
    deviceDetail: {
      deviceId: r.deviceId,
      // Known only when a compliantDevice grant was judged: granted (true) or refused (false).
      isCompliant: r.reasons.includes('compliantDevice') ? true : r.reasons.includes('deviceNotCompliant') ? false : null,
      isManaged: null,
      trustType: null,
      deviceIdVerified: r.deviceIdVerified,
    },
    managedAppRegistrationId: r.registrationId,
  };
}

/** The `$filter` of signIns as a store filter (see SUPPORTED_FILTER); anything else is a 400 naming the clause. */
export function readSignInFilter(filter: string | undefined): SignInFilter {
  const result: SignInFilter = {};
  const equal = (clause: FilterClause, field: 'userId' | 'userPrincipalName' | 'appId' | 'resourceId'): void => {
    if (clause.operator !== 'eq' || clause.literal.kind !== 'string') refuseClause(clause.text, SUPPORTED_FILTER);
    if (result[field] !== undefined) throw new OpenMamError('malformed_request', `$filter: "${clause.text}": ${clause.property} is compared twice`);
    // Ids are lower-case GUIDs in the log; a UPN is compared ignoring case by the store.
    result[field] = field === 'userPrincipalName' ? clause.literal.value : clause.literal.value.toLowerCase();
  };
  for (const clause of parseFilter(filter, SUPPORTED_FILTER)) {
    const { literal, operator } = clause;
    switch (clause.property.toLowerCase()) {
      case 'userid':
        equal(clause, 'userId');
        break;
      case 'userprincipalname':
        equal(clause, 'userPrincipalName');
        break;
      case 'appid':
        equal(clause, 'appId');
        break;
      case 'resourceid':
        equal(clause, 'resourceId');
        break;
      case 'status/errorcode': {
        if ((operator !== 'eq' && operator !== 'ne') || literal.kind !== 'integer') refuseClause(clause.text, SUPPORTED_FILTER);
        if (literal.value !== 0 && literal.value !== DENIED_ERROR_CODE) {
          throw new OpenMamError('malformed_request', `$filter: "${clause.text}": OpenMAM's sign-ins have errorCode 0 (allowed) or ${DENIED_ERROR_CODE} (denied)`);
        }
        const decision = (operator === 'eq') === (literal.value === 0) ? 'allow' : 'deny';
        if (result.decision !== undefined && result.decision !== decision) throw new OpenMamError('malformed_request', `$filter: "${clause.text}": status/errorCode is compared twice`);
        result.decision = decision;
        break;
      }
      case 'conditionalaccessstatus': {
        const value = literal.kind === 'string' ? literal.value : '';
        if (operator !== 'eq' || (value !== 'success' && value !== 'failure' && value !== 'notApplied')) refuseClause(clause.text, SUPPORTED_FILTER);
        if (result.conditionalAccessStatus !== undefined) throw new OpenMamError('malformed_request', `$filter: "${clause.text}": conditionalAccessStatus is compared twice`);
        result.conditionalAccessStatus = value;
        break;
      }
      case 'createddatetime': {
        if (literal.kind !== 'dateTime' || operator === 'eq' || operator === 'ne') refuseClause(clause.text, SUPPORTED_FILTER);
        // Stored times are whole milliseconds: each bound becomes from (inclusive) or to (exclusive), exactly.
        const { ms, exact } = literal;
        if (operator === 'ge' || operator === 'gt') {
          const from = operator === 'ge' && exact ? ms : ms + 1;
          result.from = Math.max(result.from ?? from, from);
        } else {
          const to = operator === 'lt' && exact ? ms : ms + 1;
          result.to = Math.min(result.to ?? to, to);
        }
        break;
      }
      default:
        refuseClause(clause.text, SUPPORTED_FILTER);
    }
  }
  return result;
}

/** `$top`: 1 to MAX_SIGN_IN_PAGE; MAX_SIGN_IN_PAGE when absent. */
function readTop(value: string | undefined): number {
  if (value === undefined) return MAX_SIGN_IN_PAGE;
  const top = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(top) || top < 1 || top > MAX_SIGN_IN_PAGE) throw new OpenMamError('malformed_request', `$top: must be an integer from 1 to ${MAX_SIGN_IN_PAGE}`);
  return top;
}

/** The opaque `$skiptoken`: the last record's createdAt and id, base64url JSON. */
export function encodeSkipToken(cursor: SignInCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url');
}

function decodeSkipToken(token: string): SignInCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') return { createdAt: value[0] as number, id: value[1] };
  } catch {
    // Refused below.
  }
  throw new OpenMamError('malformed_request', '$skiptoken: not a token this API issued; follow @odata.nextLink as given');
}

export async function signInRoutes(app: FastifyInstance, options: SignInRoutesOptions): Promise<void> {
  const { signIns, baseUrl, dollarOptional } = options;

  app.get(SIGN_INS, { config: { odata: ['$filter', '$top', '$skiptoken', '$select'] } }, async (request) => {
    const { caller } = request;
    const query = readQueryOptions(request.query, ['$filter', '$top', '$skiptoken'], { dollarOptional });
    const filterText = query.get('$filter');
    const top = readTop(query.get('$top'));
    const skipToken = query.get('$skiptoken');
    const filter = readSignInFilter(filterText);
    const page = await signIns.list(caller.tenantId, skipToken === undefined ? { filter, top } : { filter, top, after: decodeSkipToken(skipToken) });
    const body = collection(`${baseUrl}/$metadata#auditLogs/signIns`, page.records.map(presentSignIn));
    if (page.next !== undefined) {
      const parameters = [...(filterText === undefined ? [] : [`$filter=${encodeURIComponent(filterText)}`]), `$top=${top}`, `$skiptoken=${encodeSkipToken(page.next)}`];
      body['@odata.nextLink'] = `${baseUrl}${SIGN_INS}?${parameters.join('&')}`;
    }
    return body;
  });

  app.get<{ Params: { id: string } }>(`${SIGN_INS}/:id`, async (request) => {
    const { caller } = request;
    readQueryOptions(request.query, [], { dollarOptional });
    return { '@odata.context': `${baseUrl}/$metadata#auditLogs/signIns/$entity`, ...presentSignIn(await signIns.get(caller.tenantId, request.params.id)) };
  });
}
