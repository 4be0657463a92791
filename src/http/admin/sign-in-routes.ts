import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EntityBody, ERROR_RESPONSES, GuidParams } from '../graph/schemas.ts';
import type { SignInLog } from '../../core/app-protection/sign-in-log.ts';
import type { SignInRecord } from '../../store/app-protection-records.ts';
import { SIGN_INS as SIGN_IN_FIELDS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';

/**
 * The sign-in log as Entra's: Graph `auditLogs/signIns` (learn.microsoft.com/graph/api/resources/signin), one
 * `signIn` per access decision, newest first, in server-driven pages (`@odata.nextLink` with an opaque
 * `$skiptoken`: learn.microsoft.com/graph/paging), filtered and ordered by the Graph layer over the fields of
 * store/collections.ts SIGN_INS. Admin or Reader.
 */
export interface SignInRoutesOptions {
  signIns: SignInLog;
  /** `<public url>/graph/<version>`: the root of `@odata.context` and `@odata.nextLink`. */
  baseUrl: string;
  skipTokens: SkipTokens;
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

/** The properties a signIn answers (and `$select` may name); presentSignIn must give exactly these (its type says so). */
const SIGN_IN_PROPERTIES = [
  'id',
  'createdDateTime',
  'userId',
  'userPrincipalName',
  'appId',
  'appDisplayName',
  'ipAddress',
  'resourceId',
  'resourceDisplayName',
  'correlationId',
  'conditionalAccessStatus',
  'appliedConditionalAccessPolicies',
  'status',
  'deviceDetail',
  'managedAppRegistrationId',
] as const;

/**
 * Graph `signIn` (beta and v1.0 share these properties). OpenMAM extensions, where Graph has no property:
 * `deviceDetail.deviceIdVerified` (whether the user's token carried the device id, the `deviceid` claim, or the
 * caller only claimed it) and `managedAppRegistrationId` (the registration the decision judged).
 */
export function presentSignIn(r: SignInRecord): Record<(typeof SIGN_IN_PROPERTIES)[number], unknown> {
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

/** The response schema of a signIn: its properties, each as presentSignIn writes it. */
const SignIn = EntityBody(Object.fromEntries(SIGN_IN_PROPERTIES.map((name) => [name, Type.Unknown()])));

export async function signInRoutes(app: FastifyInstance, options: SignInRoutesOptions): Promise<void> {
  const { signIns, baseUrl } = options;

  collectionRoute<SignInRecord>(
    app,
    {
      path: SIGN_INS.slice(1),
      entityType: 'signIn',
      entity: SignIn,
      fields: SIGN_IN_FIELDS.fields,
      properties: SIGN_IN_PROPERTIES,
      navigations: [],
      // Newest first, as Entra's sign-in log reads (the index sign_ins_page is in this order).
      defaultOrder: [{ field: 'createdDateTime', descending: true }],
      pageSize: MAX_SIGN_IN_PAGE,
      maxPageSize: MAX_SIGN_IN_PAGE,
      list: (tenantId, query) => signIns.query(tenantId, query),
      present: (page) => page.map(presentSignIn),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );

  app.withTypeProvider<TypeBoxTypeProvider>().get(`${SIGN_INS}/:id`, { schema: { params: GuidParams, response: { 200: SignIn, ...ERROR_RESPONSES } } }, async (request) => {
    return { '@odata.context': `${baseUrl}/$metadata#auditLogs/signIns/$entity`, ...presentSignIn(await signIns.get(request.caller.tenantId, request.params.id)) };
  });
}
