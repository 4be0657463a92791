import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import { EnrollmentService } from './core/enrollment.ts';
import { MamUserScope } from './core/mam-user-scope.ts';
import { CheckinRecorder } from './core/management/checkin-recorder.ts';
import { ConfigurationService } from './core/management/configuration.ts';
import { MessageLog } from './core/management/message-log.ts';
import { ManagementService } from './core/management/session.ts';
import { healthAttestationFactsOf, HealthAttestationSessions, HealthAttestationValidator, type DhaTransport } from './core/management/health-attestation.ts';
import { UndiciDhaTransport } from './http/dha-client.ts';
import { WipLogService } from './core/management/wip-logs.ts';
import { DeviceActionService } from './core/management/device-actions.ts';
import { TermsOfUse } from './core/terms-of-use.ts';
import { OpenMamError } from './errors.ts';
import { PACKAGE_ROOT } from './package-root.ts';
import { enrollmentRoutes, MANAGEMENT_PATH } from './http/enrollment-routes.ts';
import { PolicyService } from './core/policies.ts';
import { ComplianceService } from './core/compliance/compliance-service.ts';
import { ComplianceReports } from './core/compliance/reports.ts';
import { complianceRulesOf, TenantSettingsService } from './core/tenant-settings.ts';
import { PolicyStatusService } from './core/policy-status.ts';
import { adminRoutes } from './http/admin/admin-routes.ts';
import { graphErrorBody } from './http/graph/graph-api.ts';
import { rewriteGraphUrl } from './http/graph/graph-url.ts';
import { AccessPolicyService } from './core/app-protection/access-policies.ts';
import { DeploymentSummaries } from './core/app-protection/deployment-summary.ts';
import { ManagedAppCatalogueService } from './core/app-protection/managed-app-catalogue.ts';
import { ServicePrincipalService } from './core/app-protection/service-principals.ts';
import { ThreatConnectorService } from './core/app-protection/threat-connectors.ts';
import { AccessService } from './core/app-protection/access.ts';
import { ManagedAppService } from './core/app-protection/managed-apps.ts';
import { AppReportService } from './core/app-protection/reports.ts';
import { SelectiveWipeService } from './core/app-protection/selective-wipe.ts';
import { SignInLog } from './core/app-protection/sign-in-log.ts';
import { ActivityRollups } from './core/activity-rollups.ts';
import { AssignmentFilterService } from './core/assignment-filters.ts';
import { TenantAppSnapshots } from './core/app-protection/tenant-snapshot.ts';
import { ThreatReportService } from './core/app-protection/threat-reports.ts';
import { mamRoutes } from './http/app-protection/mam-routes.ts';
import { APP_PROTECTION_PREFIXES, GRAPH_PREFIXES, openApi } from './http/openapi.ts';
import { serviceRoutes } from './http/app-protection/service-routes.ts';
import { healthRoutes } from './http/health-routes.ts';
import { isTemporarilyUnavailable, retryLater } from './http/retry-later.ts';
import { LoadShedding } from './http/load-shedding.ts';
import { serverWithFront } from './http/node-server.ts';
import { RateLimiter } from './http/rate-limiter.ts';
import { managementRoutes } from './http/management-routes.ts';
import { devIdpRoutes } from './http/idp-routes.ts';
import { idpSignInRoutes } from './http/idp-signin-routes.ts';
import { consoleRoutes } from './http/console-routes.ts';
import { Sealer } from './identity/authorization-codes.ts';
import { termsOfUseRoutes } from './http/terms-of-use-routes.ts';
import { fetchWithDevIdp, type DevIdentityProvider } from './identity/dev-idp.ts';
import type { Clock, FetchJson, TokenVerifier } from './identity/identity.ts';
import { TENANT_CACHE_TTL_MS, TenantDirectory } from './identity/tenants.ts';
import { OpenMamMetrics } from './http/metrics/metrics.ts';
import { metricsRoutes, observeRequests } from './http/metrics/metrics-routes.ts';
import type { TenantRecord } from './store/records.ts';
import { TokenValidator } from './identity/token-validator.ts';
import { commandSize, envelopeSize } from './protocol/syncml/writer.ts';
import type { SecretStore, Store } from './store/roles.ts';
import { AuditTrail } from './core/audit/audit-trail.ts';
import { purgeAuditEvents } from './core/audit/retention.ts';
import { GroupService } from './core/groups.ts';

export const VERSION = '0.1.0';

/** What the composition root (main.ts) or a test hands to `build`. */
export interface AppDependencies {
  store: Store & SecretStore;
  /** Undefined when the built-in identity provider is off. */
  devIdp: DevIdentityProvider | undefined;
  clock?: Clock;
  newId?: () => string;
  /** Outbound HTTP for Entra OIDC discovery and JWKS; the global fetch by default. */
  fetch?: FetchJson;
  https?: { key: string | Buffer; cert: string | Buffer };
  logger?: FastifyServerOptions['logger'];
  /** Test hooks for the token validator. */
  jwksCooldownMs?: number;
  /** The built admin console served at /console; web/dist of this installation by default. */
  consoleDir?: string;
  /** Outbound HTTP to Device Health Attestation services; undici trusting OPENMAM_HEALTH_ATTESTATION_CA_FILE by default. */
  healthAttestationTransport?: DhaTransport;
}

/** Where `npm run build:console` (Vite, web/vite.config.ts) writes the console. */
export const DEFAULT_CONSOLE_DIR = path.join(PACKAGE_ROOT, 'web', 'dist');

export interface OpenMamApp {
  server: FastifyInstance;
  tenants: TenantDirectory;
  store: Store;
  /** Desired state of devices (policies compile into configuration sets). */
  configuration: ConfigurationService;
  messageLog: MessageLog;
  /** Buffered last check-in times; `flush()` writes them now. */
  checkins: CheckinRecorder;
  policies: PolicyService;
  tenantSettings: TenantSettingsService;
  /** The app protection service: managed apps' check-ins, selective wipes, threat reports, access decisions. */
  appProtection: AppProtection;
  /** Per-tenant hourly activity counted by the hot paths; `flush()` writes it now. */
  activity: ActivityRollups;
  /** Retire, wipe and syncDevice; `sweepStale()` retires the devices silent past their tenant's limit (hourly). */
  deviceActions: DeviceActionService;
  /** Validation of devices' health certificates with the DHA service, behind the session; `idle()`, `retryDue()`. */
  healthAttestation: HealthAttestationValidator;
  /** Device compliance evaluation (off the request path): `flush()` judges queued devices, `settled()` waits for runs. */
  compliance: ComplianceService;
  /** Assignment filters (create, change, delete; a changed device rule re-plans the tenant's devices). */
  assignmentFilters: AssignmentFilterService;
  /** Load shedding of the device and app surfaces: `counts` of requests in flight, admitted, shed and rate limited. */
  loadShedding: LoadShedding;
  /** This app's series, served at /metrics (and by main.ts on the separate metrics listener). */
  metrics: OpenMamMetrics;
}

export interface AppProtection {
  apps: ManagedAppService;
  wipes: SelectiveWipeService;
  threats: ThreatReportService;
  access: AccessService;
  reports: AppReportService;
  /** Buffered last check-in times of managed apps; `flush()` writes them now. */
  checkins: CheckinRecorder;
  /** The sign-in log: `record()` one entry per access decision (buffered, written in batches); `flush()` writes now. */
  signIns: SignInLog;
}

/** How often expired wipe records, long-silent registrations and sign-ins past their retention are purged. */
const RETENTION_SWEEP_MS = 60 * 60 * 1000;

/**
 * One access-log line per request at info ("request completed", with the request and status); Fastify's
 * "incoming request" line goes to debug: every device checks in all day, and two lines per request double the log.
 * A request shed for load (http/load-shedding.ts) is not logged at all when refused at the door (before Fastify), and
 * at debug when refused by its route's hook: a busy node would otherwise spend on logging part of what it saves by
 * refusing; its warning every 10 s carries the counts, and /metrics the refusals by route.
 */
class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Flat fields rather than Fastify's req/res serializers: this line is written for every device check-in.
    const entry = { method: request.method, url: request.url, remoteAddress: request.ip, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...entry, err: error }, 'request errored');
    // Undefined outside the device and app scope, where nothing is shed.
    else if (request.loadRefusal?.reason === 'overloaded') reply.log.debug(entry, 'request shed');
    else reply.log.info(entry, 'request completed');
  }
}

/**
 * Graph's path segments are matched ignoring case (and the device surfaces with them); load shedding's door looks
 * device and app requests up with the same options, to find the routes Fastify will.
 */
const ROUTER_OPTIONS = { caseSensitive: false } as const;

/** Every body OpenMAM reads is small; routes that need less set their own, lower limit. */
const GLOBAL_BODY_LIMIT = 64 * 1024;

/** Builds the whole application without listening: tests use `server.inject()`, main.ts calls `listen()`. */
export async function build(config: Config, deps: AppDependencies): Promise<OpenMamApp> {
  const clock = deps.clock ?? Date.now;
  const newId = deps.newId ?? randomUUID;
  const metrics = new OpenMamMetrics(VERSION);
  deps.store.observeQueries(metrics.storeQuery);
  const tenants = new TenantDirectory(deps.store, clock, TENANT_CACHE_TTL_MS, metrics.cache('tenant'));
  // OpenMAM's own audiences: its APIs take tokens for them, and no protected resource may claim them.
  const ownAudiences = [config.appIdUri, ...(config.clientId ? [config.clientId] : [])];
  const verifier = new TokenValidator({
    tenants,
    audiences: ownAudiences,
    entraAuthority: config.entraAuthority,
    devIdp: config.builtinIdp ? deps.devIdp : undefined,
    fetch: fetchWithDevIdp(config.builtinIdp ? deps.devIdp : undefined, deps.fetch ?? ((url, init) => fetch(url, init))),
    clock,
    clockSkewSeconds: config.tokenClockSkewSeconds,
    cacheObserver: metrics.cache('token'),
    ...(deps.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: deps.jwksCooldownMs }),
  });
  const termsOfUse = new TermsOfUse(deps.store, clock);
  const scope = new MamUserScope(deps.store);
  const enrollment = new EnrollmentService({
    verifier,
    scope,
    tenants,
    enrollments: deps.store,
    termsOfUse,
    clock,
    newId,
    providerId: config.providerId,
    managementUrl: `${config.publicUrl}${MANAGEMENT_PATH}`,
    aadResourceId: config.appIdUri,
  });

  const configuration = new ConfigurationService(deps.store, clock);
  // Every admin change is recorded in its own transaction; refused writes by the Graph layer (core/audit).
  const audit = new AuditTrail(deps.store.audit, clock);
  const assignmentFilters = new AssignmentFilterService({ store: deps.store.assignmentFilters, audit, clock, newId, deviceRuleChanged: (tenantId, filterId) => compliance.filterChanged(tenantId, filterId) });
  // Device compliance: judged off the request path (inventory changes, policy changes, grace expiry), with the health
  // attestation verdicts of the devices judged. Before the policy service that kicks it; it logs through the server
  // made below and starts once that exists.
  const compliance = new ComplianceService({
    store: deps.store.compliance,
    groups: deps.store,
    filters: deps.store.assignmentFilters,
    clock,
    nodeId: randomUUID(),
    attestation: healthAttestationFactsOf(deps.store.healthAttestation),
    onError: (error, what) => server.log.error({ err: error }, `${what} failed`),
    // The tenant's secureByDefault and check-in validity period (core/tenant-settings.ts), through the directory's cache
    // except for a run (fresh: the run may follow a settings change made on another node).
    rules: async (tenantId, fresh) => complianceRulesOf((fresh ? await storedTenant(tenants, tenantId) : await tenants.get(tenantId))?.settings),
    tenantIds: async () => (await deps.store.listTenants()).map((tenant) => tenant.id),
    // A policy's retire action: the managed device retire, with reason `compliance` (core/management/device-actions.ts).
    actions: { retire: async (enrollment) => void (await deviceActions.request({ tenantId: enrollment.tenantId, reason: 'compliance' }, enrollment.id, 'retire')) },
  });
  const policies = new PolicyService({
    store: deps.store,
    appStore: deps.store.appProtection,
    filters: assignmentFilters,
    complianceStore: deps.store.compliance,
    complianceChanged: () => compliance.tenantChanged(),
    audit,
    clock,
    newId,
    providerId: config.providerId,
  });
  // A changed secureByDefault or check-in validity period owed the tenant a compliance run in its write: run it now.
  const tenantSettings = new TenantSettingsService(tenants, configuration, config.providerId, audit, clock, () => compliance.tenantChanged());
  const policyStatuses = new PolicyStatusService(deps.store, policies, deps.store.assignmentFilters);
  const wipLogs = new WipLogService(deps.store, clock, newId, audit);
  const deviceActions = new DeviceActionService(deps.store.deviceActions, deps.store, clock, newId, audit);
  const appProtectionAdmin = {
    deploymentSummaries: new DeploymentSummaries({ store: deps.store.appProtection, clock }),
    connectors: new ThreatConnectorService({ store: deps.store.appProtection, audit, clock, newId }),
    accessPolicies: new AccessPolicyService({ store: deps.store.appProtection, audit, clock, newId }),
  };
  const catalogue = {
    managedApps: new ManagedAppCatalogueService({ store: deps.store.appProtection, audit, clock, newId }),
    servicePrincipals: new ServicePrincipalService({ store: deps.store.appProtection, audit, clock, newId, ownAudiences }),
  };
  const messageLog = new MessageLog(deps.store, clock, undefined, undefined, audit);

  // The device and app surfaces, in one scope that sheds load past the limits (http/load-shedding.ts); everything
  // registered outside it (admin, console, health, identity provider) keeps answering an overloaded node. Made first:
  // its door stands in front of Fastify's handler, in the server Fastify listens with.
  const loadShedding = new LoadShedding({ maxInFlight: config.maxInFlight, maxEventLoopDelayMs: config.maxEventLoopDelayMs }, (details, message) => server.log.warn(details, message), {
    routerOptions: ROUTER_OPTIONS,
    observeRefusal: (route, method, statusCode, seconds) => metrics.route(route, method, route).observe(statusCode, seconds),
  });
  const server = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: GLOBAL_BODY_LIMIT,
    // Devices and gateways keep connections open; a slow client must not hold a socket forever.
    requestTimeout: 30_000,
    logController: new AccessLogController(),
    // Graph's path segments are matched ignoring case, and its keys and function calls take OData's URL forms.
    routerOptions: ROUTER_OPTIONS,
    // Fastify's Ajv defaults drop unknown properties and coerce types: a body is refused instead, never silently changed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    rewriteUrl: (request) => rewriteGraphUrl(request.url ?? '/'),
    // A path the router cannot decode (not UTF-8: %ED%A0%80) is refused before any route: under /graph in Graph's body.
    frameworkErrors: (error, request, reply) => {
      // Fastify types this reply by the route generics no route has yet; it is a plain reply.
      const answer = reply as unknown as FastifyReply;
      if (/^\/graph\//i.test(request.url)) return answer.code(400).send(graphErrorBody(request, 'BadRequest', `The path cannot be read: ${error.message}`));
      return answer.send(error);
    },
    ...(deps.https ? { https: deps.https } : {}),
    serverFactory: serverWithFront(deps.https, (handler) => loadShedding.door(handler)),
  });
  // Before every route: the request series count them all, by route pattern.
  observeRequests(server, metrics);
  // Set as the request arrives, with a callback hook: an async onSend hook costs every check-in a promise and a tick.
  server.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const checkins = new CheckinRecorder(deps.store, (error) => server.log.error({ err: error }, 'could not record check-in times'));
  const activity = new ActivityRollups({ store: deps.store.activity, clock, onError: (error) => server.log.error({ err: error }, 'could not record activity rollups') });
  metrics.buffer('device_checkins', () => checkins.pendingCount);
  metrics.buffer('activity', () => activity.pendingCount);
  const dhaTransport =
    deps.healthAttestationTransport ?? new UndiciDhaTransport(config.healthAttestationCaFile === undefined ? undefined : await readFile(config.healthAttestationCaFile, 'utf8'));
  // Compliance (issue 15, H2) re-evaluates on a verdict: give it the same DeviceEventSink as the session engine.
  const healthAttestation = new HealthAttestationValidator({
    store: deps.store.healthAttestation,
    enrollments: deps.store,
    tenants,
    transport: dhaTransport,
    clock,
    onError: (error) => server.log.error({ err: error }, 'health attestation validation failed'),
    listener: compliance,
  });
  compliance.start();
  const management = new ManagementService({
    store: deps.store,
    deviceEvents: compliance,
    filters: deps.store.assignmentFilters,
    deviceActions: deps.store.deviceActions,
    providerId: config.providerId,
    healthAttestation: new HealthAttestationSessions({ store: deps.store.healthAttestation, tenants, validator: healthAttestation }),
    verifier,
    checkins,
    activity,
    measure: { command: commandSize, envelope: envelopeSize },
    clock,
    serverUrl: `${config.publicUrl}${MANAGEMENT_PATH}`,
    warn: (details, message) => server.log.warn(details, message),
  });
  server.addHook('onClose', async () => {
    await compliance.close();
    await checkins.close();
    await deps.store.close();
  });
  // Runs before the hook above (last registered, first run): validations in flight finish before the store closes.
  server.addHook('onClose', async () => {
    await healthAttestation.close();
    if (dhaTransport instanceof UndiciDhaTransport) await dhaTransport.close();
  });
  server.setErrorHandler((error: FastifyError | OpenMamError, request, reply) => {
    if (isTemporarilyUnavailable(error)) {
      request.log.error({ err: error }, 'request failed: a service we depend on is unavailable');
      return retryLater(reply).send({ error: { code: 'ServiceUnavailable', message: 'temporarily unavailable; try again later', traceId: request.id } });
    }
    const status = error instanceof OpenMamError ? (error.code === 'internal' ? 500 : 400) : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message = status >= 500 ? 'internal error' : error.message;
    return reply.code(status).send({ error: { code: status >= 500 ? 'InternalError' : 'BadRequest', message, traceId: request.id } });
  });

  await server.register(healthRoutes, { ping: () => deps.store.ping(), version: VERSION });
  await server.register(metricsRoutes, { metrics, verifier, scrapeToken: config.metricsToken });
  await server.register(termsOfUseRoutes, { verifier, tenants, termsOfUse });
  const appProtection = appProtectionServices(deps.store, { verifier, tenants, scope, activity, metrics, audit }, clock, newId, config.signInRetentionDays, (error) =>
    server.log.error({ err: error }, 'app protection background work failed'),
  );
  metrics.buffer('app_checkins', () => appProtection.checkins.pendingCount);
  metrics.buffer('sign_ins', () => appProtection.signIns.pendingCount);
  // Devices silent past their tenant's staleDeviceRetireAfterDays are retired hourly, off every request path.
  const staleSweep = setInterval(() => {
    void deviceActions.sweepStale().catch((error: unknown) => server.log.error({ err: error }, 'could not retire stale devices'));
    // Audit events past their tenant's auditEventRetentionDays (core/audit/retention.ts).
    void deps.store
      .listTenants()
      .then((list) => purgeAuditEvents(deps.store.audit, list, clock()))
      .catch((error: unknown) => server.log.error({ err: error }, 'could not purge audit events past their retention'));
  }, RETENTION_SWEEP_MS);
  staleSweep.unref();
  // onClose hooks run last-registered first: these writes are done before the hook above closes the store.
  server.addHook('onClose', async () => {
    clearInterval(staleSweep);
    clearInterval(appProtection.sweep);
    await Promise.all([appProtection.checkins.close(), appProtection.signIns.close()]);
    // Last: everything above may still count (nothing does once requests have stopped, but the order costs nothing).
    await activity.close();
  });
  // Before the routes it publishes: it collects them as they are added.
  await server.register(openApi, { prefixes: [...APP_PROTECTION_PREFIXES, ...GRAPH_PREFIXES], version: VERSION });
  metrics.loadShedding(() => ({ ...loadShedding.counts, admittedShare: loadShedding.admittedShare, retryAfterBaseSeconds: loadShedding.retryAfterBaseSeconds }));
  // Real time, not `clock`: a rate is of requests as they arrive (a test's frozen clock would never refill a bucket).
  const clientLimit = (perMinute: number) => loadShedding.clientLimit(new RateLimiter({ perMinute, maxKeys: config.rateLimitClients }));
  await loadShedding.register(server, async (devices) => {
    await devices.register(enrollmentRoutes, { enrollment, publicUrl: config.publicUrl, clock, metrics, rateLimit: clientLimit(config.enrollmentRateLimitPerMinute) });
    await devices.register(managementRoutes, { management, messageLog, metrics, rateLimit: clientLimit(config.deviceRateLimitPerMinute) });
    await devices.register(mamRoutes, { verifier, apps: appProtection.apps, metrics, rateLimit: clientLimit(config.appRateLimitPerMinute) });
    await devices.register(serviceRoutes, { verifier, threats: appProtection.threats, access: appProtection.access, metrics });
  });
  await server.register(adminRoutes, { verifier, secrets: deps.store, reports: appProtection.reports, wipes: appProtection.wipes, signIns: appProtection.signIns, activity: deps.store.activity, assignmentFilters, policies, statuses: policyStatuses, groups: deps.store, groupChanges: new GroupService(deps.store, audit), audit, auditEvents: deps.store.audit, devices: deps.store, deviceActions, messageLog, users: deps.store, wipLogs, healthAttestations: deps.store.healthAttestation, tenantSettings, appProtection: appProtectionAdmin, catalogue, newId, clock, publicUrl: config.publicUrl, compliance: new ComplianceReports(deps.store.compliance, deps.store, policies) });
  const devIdp = config.builtinIdp ? deps.devIdp : undefined;
  await server.register(consoleRoutes, {
    root: deps.consoleDir ?? DEFAULT_CONSOLE_DIR,
    publicUrl: config.publicUrl,
    appIdUri: config.appIdUri,
    consoleClientId: config.consoleClientId,
    entraAuthority: config.entraAuthority,
    devIdp,
    tenants,
  });
  if (devIdp) {
    await server.register(devIdpRoutes, { idp: devIdp, publicUrl: config.publicUrl });
    await server.register(idpSignInRoutes, {
      idp: devIdp,
      publicUrl: config.publicUrl,
      audience: config.appIdUri,
      consoleClientId: config.consoleClientId,
      tenants,
      users: deps.store,
      secrets: deps.store,
      sealer: new Sealer(deps.store),
      clock,
    });
  }
  return { server, tenants, store: deps.store, configuration, messageLog, checkins, policies, tenantSettings, appProtection, activity, deviceActions, healthAttestation, compliance, assignmentFilters, metrics, loadShedding };
}

function appProtectionServices(
  store: Store,
  { verifier, tenants, scope, activity, metrics, audit }: { verifier: TokenVerifier; tenants: TenantDirectory; scope: MamUserScope; activity: ActivityRollups; metrics: OpenMamMetrics; audit: AuditTrail },
  clock: Clock,
  newId: () => string,
  signInRetentionDays: number,
  onError: (error: unknown) => void,
): AppProtection & { sweep: NodeJS.Timeout } {
  const snapshots = new TenantAppSnapshots(store, metrics.cache('tenant_snapshot'));
  const checkins = new CheckinRecorder({ recordCheckins: (times) => store.appProtection.recordAppCheckins(times) }, onError);
  const reports = new AppReportService(store.appProtection, snapshots);
  const signIns = new SignInLog({ store: store.signIns, onError, retentionDays: signInRetentionDays, activity });
  const sweep = setInterval(() => {
    void reports.purge(clock()).catch(onError);
    void signIns.purge(clock()).catch(onError);
  }, RETENTION_SWEEP_MS);
  sweep.unref();
  return {
    apps: new ManagedAppService({ store: store.appProtection, tenants, scope, snapshots, checkins, activity, clock, newId }),
    wipes: new SelectiveWipeService({ store: store.appProtection, snapshots, audit, clock, newId }),
    threats: new ThreatReportService({ store: store.appProtection, snapshots, clock }),
    access: new AccessService({ store: store.appProtection, snapshots, verifier, clock, signIns, deviceCompliance: store.compliance }),
    reports,
    checkins,
    signIns,
    sweep,
  };
}

/** The tenant as stored now (no cache); undefined when it is not onboarded (any other failure is thrown). */
async function storedTenant(tenants: TenantDirectory, tenantId: string): Promise<TenantRecord | undefined> {
  try {
    return await tenants.read(tenantId);
  } catch (error) {
    if (error instanceof OpenMamError && error.code === 'not_found') return undefined;
    throw error;
  }
}
