import { Type, type TSchema } from 'typebox';
import { VERSION_CHECKS, type VersionSetting } from './health.ts';
import { MAX_DURATION_LENGTH } from './duration.ts';
import { MAX_HEALTH_CHECK_FAILURES, MAX_IP_ADDRESS, MAX_RESULT_DETAIL, MAX_TEXT, MAX_TOKEN_LENGTH } from './limits.ts';
import { MAX_VERSION_LENGTH, VERSION_PATTERN } from './versions.ts';

/**
 * The wire contract of OpenMAM's app protection service (docs/app-protection.md): every request and response body of
 * `/mam/v1` (managed apps), `/mtd/v1` (threat defense connectors) and `/access/v1` (gateways, compliance reporters)
 * as JSON Schema built with TypeBox. The server validates and serialises with these schemas and publishes them as
 * OpenAPI; the SDK's types are their static types (index.ts), so neither side can drift from the other.
 *
 * Every schema is bounded (string lengths, array counts, closed objects where the contract is closed), so a body
 * that passes is small and flat whatever a caller sends.
 */

/**
 * Text without NUL and without unpaired UTF-16 surrogates. PostgreSQL text cannot hold NUL (an error, not a stored
 * value: postgresql.org/docs/current/datatype-character.html), and a lone surrogate is not a Unicode scalar value, so
 * UTF-8 cannot carry it (RFC 3629 section 3) and it would come back as U+FFFD. Validators apply JSON Schema patterns
 * as ECMA-262 regular expressions with the `u` flag (RFC 8259 strings are Unicode; ajv and TypeBox both do), under
 * which a well-formed pair is one code point outside D800-DFFF and only a lone half is refused.
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000\\uD800-\\uDFFF]*$';

/** Package-style app names (`com.microsoft.edge`) or GUIDs: letters, digits, dots, dashes, underscores. */
export const APP_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

/** An Entra object id (RFC 9562 textual form, either case). */
export const GUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';

/** What a refused pattern means, for error messages that a person can act on. */
export const PATTERN_MEANINGS: Readonly<Record<string, string>> = {
  [SAFE_TEXT_PATTERN]: 'must not contain NUL characters or unpaired UTF-16 surrogates',
  [APP_ID_PATTERN]: 'must be an app id (letters, digits, dots, dashes and underscores)',
  [GUID_PATTERN]: 'must be a GUID',
  [VERSION_PATTERN]: 'must be a version (numbers separated by dots, e.g. 10.0.22631.3155)',
};

/** Free text of at most `maxLength` UTF-16 code units (default: at least one). */
export function SafeString(options: { maxLength: number; minLength?: number; description?: string }) {
  return Type.String({ minLength: 1, ...options, pattern: SAFE_TEXT_PATTERN });
}

/** Text of a fixed grammar; these patterns are ASCII-only, so they refuse NUL and surrogates by themselves. */
function SafeStringMatching(pattern: string, maxLength: number, description: string) {
  return Type.String({ minLength: 1, maxLength, pattern, description });
}

export const Guid = (description: string) => SafeStringMatching(GUID_PATTERN, 36, description);
export const AppId = (description: string) => SafeStringMatching(APP_ID_PATTERN, 256, description);
export const VersionText = (description: string) => SafeStringMatching(VERSION_PATTERN, MAX_VERSION_LENGTH, description);

/** Optional and nullable: absent, `null` and a value all mean what the contract says (absent = null). */
const Maybe = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));


const Remediation = Type.Union([Type.Literal('block'), Type.Literal('wipe'), Type.Literal('warn')]);

// ---- /mam/v1

export const RegistrationParams = Type.Object({ id: SafeString({ maxLength: 128, description: 'the registration id' }) }, { additionalProperties: false });
export const ActionResultParams = Type.Object(
  { id: SafeString({ maxLength: 128, description: 'the registration id' }), actionId: SafeString({ maxLength: 128, description: 'the action id' }) },
  { additionalProperties: false },
);

export const RegistrationRequest = Type.Object(
  {
    appId: Maybe(AppId("the app's id; must be the app of the token's client")),
    appVersion: VersionText('the app version'),
    sdkVersion: VersionText('the MAM SDK version the app is built with'),
    osVersion: VersionText('the Windows version, e.g. 10.0.22631.3155'),
    deviceName: Maybe(SafeString({ maxLength: MAX_TEXT })),
    deviceModel: Maybe(SafeString({ maxLength: MAX_TEXT })),
    deviceManufacturer: Maybe(SafeString({ maxLength: MAX_TEXT })),
    deviceTag: SafeString({ maxLength: MAX_TEXT, description: 'relates the managed apps of one device; stable per device' }),
    azureAdDeviceId: Maybe(Guid('the Entra device object id; a claim unless the token carries deviceid')),
  },
  { additionalProperties: false },
);

export const HealthCheckFailure = Type.Object(
  { setting: SafeString({ maxLength: MAX_TEXT, description: 'the policy setting, e.g. minimumRequiredOsVersion' }), action: Remediation },
  { additionalProperties: false },
);

export const CheckInRequest = Type.Object(
  {
    appVersion: VersionText('the app version'),
    sdkVersion: VersionText('the MAM SDK version'),
    osVersion: VersionText('the Windows version'),
    policyVersion: Maybe(SafeString({ maxLength: MAX_TEXT, description: 'the version of the policy the app holds' })),
    configurationVersion: Maybe(SafeString({ maxLength: MAX_TEXT, description: 'the version of the configuration the app holds' })),
    healthCheckFailures: Type.Optional(Type.Array(HealthCheckFailure, { maxItems: MAX_HEALTH_CHECK_FAILURES })),
  },
  { additionalProperties: false },
);

export const ActionResultRequest = Type.Object(
  {
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    detail: Maybe(SafeString({ maxLength: MAX_RESULT_DETAIL, minLength: 0 })),
  },
  { additionalProperties: false },
);

const NullableVersion = Type.Union([Type.String({ maxLength: MAX_VERSION_LENGTH }), Type.Null()]);
const versionSettings = Object.fromEntries(VERSION_CHECKS.map((check) => [check.setting, NullableVersion])) as Record<VersionSetting, typeof NullableVersion>;

/** A policy's settings as delivered: every data protection and health check property, defaults filled in. */
export const PolicySettings = Type.Object(
  {
    allowedInboundDataTransferSources: Type.Union([Type.Literal('allApps'), Type.Literal('none')]),
    allowedOutboundDataTransferDestinations: Type.Union([Type.Literal('allApps'), Type.Literal('none')]),
    allowedOutboundClipboardSharingLevel: Type.Union([
      Type.Literal('anyDestinationAnySource'),
      Type.Literal('none'),
      Type.Literal('orgDestinationAnySource'),
      Type.Literal('orgDestinationOrgSource'),
    ]),
    printBlocked: Type.Boolean(),
    encryptAppData: Type.Boolean(),
    pinRequired: Type.Boolean(),
    minimumPinLength: Type.Integer({ minimum: 0, maximum: 1000 }),
    maximumPinRetries: Type.Integer({ minimum: 0, maximum: 1000 }),
    managedBrowserRequired: Type.Boolean(),
    periodOfflineBeforeAccessCheck: Type.String({ maxLength: MAX_DURATION_LENGTH, description: 'ISO 8601 duration; PT0S blocks as soon as the app cannot reach OpenMAM' }),
    periodOfflineBeforeWipeIsEnforced: Type.String({ maxLength: MAX_DURATION_LENGTH, description: 'ISO 8601 duration; PT0S never wipes for being offline' }),
    appActionIfUnableToAuthenticateUser: Type.Union([Type.Literal('block'), Type.Literal('wipe'), Type.Null()]),
    ...versionSettings,
    maximumAllowedDeviceThreatLevel: Type.Union([Type.Literal('notConfigured'), Type.Literal('secured'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    mobileThreatDefenseRemediationAction: Type.Union([Type.Literal('block'), Type.Literal('wipe')]),
  },
  { additionalProperties: false },
);

export const PolicyDocument = Type.Object(
  {
    id: Type.String({ maxLength: 128 }),
    version: Type.String({ maxLength: MAX_TEXT, description: 'opaque; sent back at check-in as policyVersion' }),
    displayName: Type.String({ maxLength: 1024 }),
    settings: PolicySettings,
  },
  { additionalProperties: false },
);

export const ConfigurationDocument = Type.Object(
  {
    version: Type.String({ maxLength: 4096, description: 'opaque; sent back at check-in as configurationVersion' }),
    settings: Type.Array(Type.Object({ name: Type.String({ maxLength: 1024 }), value: Type.String({ maxLength: 65_536 }) }, { additionalProperties: false }), { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

export const ActionMessage = Type.Object(
  { title: Type.String({ maxLength: 1024 }), text: Type.String({ maxLength: 4096 }), remediation: Type.String({ maxLength: 4096 }) },
  { additionalProperties: false },
);

export const MamAction = Type.Object(
  {
    id: Type.String({ maxLength: 128 }),
    type: Remediation,
    reason: Type.String({ maxLength: MAX_TEXT, description: 'e.g. adminWipe, offlineWipe, minimumRequiredOsVersion, deviceThreatLevel' }),
    message: ActionMessage,
  },
  { additionalProperties: false },
);

export const ComplianceState = Type.Union([Type.Literal('compliant'), Type.Literal('notCompliant'), Type.Literal('unknown')]);

const checkInAnswerProperties = {
  policy: Type.Optional(Type.Union([PolicyDocument, Type.Null()], { description: 'absent: unchanged since the version sent; null: none applies any more' })),
  configuration: Type.Optional(Type.Union([ConfigurationDocument, Type.Null()], { description: 'absent: unchanged since the version sent; null: none applies any more' })),
  actions: Type.Array(MamAction, { maxItems: 64 }),
  complianceState: ComplianceState,
  nextCheckInSeconds: Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 }),
};

export const CheckInAnswer = Type.Object(checkInAnswerProperties, { additionalProperties: false });

export const RegistrationAnswer = Type.Object({ registrationId: Type.String({ maxLength: 128 }), ...checkInAnswerProperties }, { additionalProperties: false });

// ---- /mtd/v1

export const ThreatLevel = Type.Union([Type.Literal('secured'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

export const ThreatReportRequest = Type.Object(
  {
    connectorId: Maybe(SafeString({ maxLength: MAX_TEXT, description: "may be omitted when the tenant has one connector" })),
    userId: Guid("the user's Entra object id"),
    appId: AppId('the app id'),
    azureAdDeviceId: Guid('the Entra device object id'),
    healthState: ThreatLevel,
    lastUpdatedDateTime: SafeString({ maxLength: 64, description: 'ISO 8601 date and time; at most 5 minutes ahead of the server' }),
  },
  { additionalProperties: false },
);

export const HeartbeatRequest = Type.Object({ connectorId: Maybe(SafeString({ maxLength: MAX_TEXT })) }, { additionalProperties: false });

// ---- /access/v1

export const AccessRequest = Type.Object(
  {
    // A string, unchecked here: Ajv measures a string's length (maxLength, minLength) code point by code point, 8 µs
    // of every access decision for a 2 KB token. The request is bounded by its body limit, and the token validator
    // refuses one over MAX_TOKEN_LENGTH (or empty, or with a NUL) before anything else reads it; it is never stored.
    userToken: Type.String({ description: `the user's token for the resource, as the app sent it (at most ${MAX_TOKEN_LENGTH} characters)` }),
    resource: SafeString({ maxLength: MAX_TEXT, description: "the resource's service principal appId or one of its audiences" }),
    registrationId: Maybe(Guid("the app's registration (a claim checked against the token)")),
    appId: Maybe(SafeString({ maxLength: MAX_TEXT, description: "the app's id (a claim checked against the token)" })),
    azureAdDeviceId: Maybe(Guid('the Entra device id (a claim checked against the token)')),
    ipAddress: Maybe(SafeString({ maxLength: MAX_IP_ADDRESS, description: "the client's address as the gateway saw it (sign-in log only)" })),
  },
  { additionalProperties: false },
);

export const AccessDecision = Type.Object(
  {
    decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    reasons: Type.Array(Type.String({ maxLength: MAX_TEXT }), { maxItems: 256 }),
    remediation: Type.Optional(Type.Object({ title: Type.String({ maxLength: 1024 }), message: Type.String({ maxLength: 4096 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const DeviceComplianceRequest = Type.Object(
  { azureAdDeviceId: Guid('the Entra device id'), compliant: Type.Boolean() },
  { additionalProperties: false },
);

// ---- shared

/** `Authorization: Bearer <token>` (RFC 6750 section 2.1): the only header these endpoints read. */
export const BearerHeaders = Type.Object({ authorization: Type.String({ maxLength: MAX_TOKEN_LENGTH + 16, description: 'Bearer <token> (RFC 6750)' }) });

/** Every refusal: `{"error": {"code", "message", ...}}`; `code` is the stable value a client acts on. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ maxLength: 64 }),
        message: Type.String({ maxLength: 4096 }),
        userMessage: Type.Optional(ActionMessage),
        nextCheckInSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
        requestId: Type.String({ maxLength: 128 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** A 204: no body. */
export const NoContent = Type.Null({ description: 'No Content' });
