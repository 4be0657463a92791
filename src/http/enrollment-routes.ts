import type { FastifyInstance } from 'fastify';
import type { EnrollmentService } from '../core/enrollment.ts';
import { OpenMamError, type ErrorCode } from '../errors.ts';
import { readDiscoverRequest, writeDiscoverResponse } from '../protocol/mde2/discovery.ts';
import { ACTION } from '../protocol/mde2/namespaces.ts';
import { writeMamProvisioningDocument, type MamProvisioning } from '../protocol/mde2/provisioning.ts';
import { parseSoapEnvelope, type SoapEnvelope } from '../protocol/mde2/soap.ts';
import { contextValue, readRequestSecurityToken, writeRequestSecurityTokenResponse, type RequestSecurityToken } from '../protocol/mde2/wstep.ts';
import { sendTryLater, type ClientLimit } from './load-shedding.ts';
import type { OpenMamMetrics } from './metrics/metrics.ts';
import { registerSoapBodyParser, rememberMessageId, sendSoap, soapErrorHandler, soapTryLater } from './soap.ts';

export const ENROLLMENT_PATH = '/EnrollmentServer/Enrollment.svc';
export const DISCOVERY_PATH = '/EnrollmentServer/Discovery.svc';
export const TERMS_OF_USE_PATH = '/EnrollmentServer/TermsOfUse';
export const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';

/** An RST with a token and a PKCS#10 is ~10 KB; 64 KiB leaves room and bounds the parse. */
const ENROLLMENT_BODY_LIMIT = 64 * 1024;
const DISCOVERY_BODY_LIMIT = 16 * 1024;
/** Lifetime of the u:Timestamp in the enrollment response. */
const RESPONSE_LIFETIME_SECONDS = 300;

export interface EnrollmentRoutesOptions {
  enrollment: EnrollmentService;
  publicUrl: string;
  clock: () => number;
  /** Counts each enrollment answered: created, replaced or the fault's error code. */
  metrics: Pick<OpenMamMetrics, 'enrollment'>;
  /** Enrollments per device and user token, when a rate is configured (load-shedding.ts). */
  rateLimit?: ClientLimit | undefined;
}

/** Every route here says "try later" with the InMaintenance fault when load is shed. */
const ROUTE_CONFIG = { tryLater: soapTryLater };

/** The document for one provisioning object, written once: core hands out the same object per tenant. */
const provisioningDocuments = new WeakMap<MamProvisioning, string>();

function provisioningDocument(provisioning: MamProvisioning): string {
  let document = provisioningDocuments.get(provisioning);
  if (document === undefined) {
    document = writeMamProvisioningDocument(provisioning);
    provisioningDocuments.set(provisioning, document);
  }
  return document;
}

/**
 * Whose enrollments a request counts against: the device it names (AdditionalContext DeviceID) with the tail of its
 * user token, the token's signature, which only its holder has: a device that enrolls in a loop is limited, and nobody
 * can spend another user's or device's allowance. Not the client address: behind NAT or a load balancer a whole fleet
 * has one. Undefined without a token (core refuses it, cheaply, before anything is written).
 */
function enrollmentKey(rst: RequestSecurityToken): string | undefined {
  const token = rst.userToken?.jwt;
  if (token === undefined) return undefined;
  return `${(contextValue(rst.context, 'DeviceID') ?? '').slice(0, 256)}\n${token.slice(-16)}`;
}

/** The WS-Addressing action must name the operation of the endpoint. */
function checkAction(envelope: SoapEnvelope, expected: string): void {
  if (envelope.action !== expected) {
    throw new OpenMamError('unsupported_action', `unexpected SOAP action "${envelope.action ?? ''}"; this endpoint accepts ${expected}`);
  }
}

/** MS-MDE2 device endpoints: discovery and the MAM enrollment service. */
export async function enrollmentRoutes(app: FastifyInstance, options: EnrollmentRoutesOptions): Promise<void> {
  registerSoapBodyParser(app);
  const enrollmentRefused = (code: ErrorCode): void => options.metrics.enrollment(code);
  // Discovery's faults are not enrollments: only the enrollment route's are counted.
  app.setErrorHandler((error, request, reply) => soapErrorHandler(error, request, reply, request.routeOptions.url === ENROLLMENT_PATH ? enrollmentRefused : undefined));
  const { rateLimit } = options;

  app.post(ENROLLMENT_PATH, { bodyLimit: ENROLLMENT_BODY_LIMIT, config: ROUTE_CONFIG }, async (request, reply) => {
    const envelope = parseSoapEnvelope(requireBody(request.body));
    rememberMessageId(request, envelope.messageId);
    checkAction(envelope, ACTION.requestSecurityToken);
    const rst = readRequestSecurityToken(envelope);
    const key = rateLimit === undefined ? undefined : enrollmentKey(rst);
    const refusal = key === undefined ? undefined : rateLimit?.(key);
    if (refusal !== undefined) {
      return sendTryLater(reply, soapTryLater, refusal);
    }
    const result = await options.enrollment.enroll(rst);
    request.log.info(
      { traceId: request.id, enrollmentId: result.enrollment.id, tenantId: result.enrollment.tenantId, devId: result.enrollment.devId, replaced: result.replaced },
      result.replaced ? 'MAM enrollment replaced' : 'MAM enrollment created',
    );
    options.metrics.enrollment(result.replaced ? 'replaced' : 'created');
    return sendSoap(
      reply,
      writeRequestSecurityTokenResponse({
        relatesTo: envelope.messageId,
        provisioningDocument: provisioningDocument(result.provisioning),
        created: new Date(options.clock()),
        lifetimeSeconds: RESPONSE_LIFETIME_SECONDS,
      }),
    );
  });

  // Clients probe discovery with an empty GET before they POST Discover.
  app.get(DISCOVERY_PATH, { config: ROUTE_CONFIG }, async (_request, reply) => reply.code(200).send());

  app.post(DISCOVERY_PATH, { bodyLimit: DISCOVERY_BODY_LIMIT, config: ROUTE_CONFIG }, async (request, reply) => {
    const envelope = parseSoapEnvelope(requireBody(request.body));
    rememberMessageId(request, envelope.messageId);
    checkAction(envelope, ACTION.discover);
    const discover = readDiscoverRequest(envelope);
    return sendSoap(
      reply,
      writeDiscoverResponse({
        relatesTo: discover.messageId,
        enrollmentVersion: discover.requestVersion ?? '4.0',
        enrollmentPolicyServiceUrl: `${options.publicUrl}${ENROLLMENT_PATH}`,
        enrollmentServiceUrl: `${options.publicUrl}${ENROLLMENT_PATH}`,
        authenticationServiceUrl: `${options.publicUrl}${TERMS_OF_USE_PATH}`,
      }),
    );
  });
}

function requireBody(body: unknown): string {
  if (typeof body !== 'string' || body.trim() === '') throw new OpenMamError('malformed_request', 'the request has no SOAP body');
  return body;
}
