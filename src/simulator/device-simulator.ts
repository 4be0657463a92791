import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { SimulatedHealthAttestation } from './health-attestation.ts';
import { RST_MAM_JWT_TEMPLATE } from './rst-template.ts';
import { child, children, el, escapeText, findFirst, parseSimXml, textAt, type RawXml, type SimElement } from './sim-xml.ts';

/**
 * A Windows MAM client for `openmam simulate`, end-to-end tests and benchmarks: MS-MDE2 (MAM) enrollment and OMA-DM
 * (SyncML DM 1.2) sessions over real HTTPS, shaped as Windows sends them ([MS-MDE2]; OMA DM protocol support,
 * learn.microsoft.com/windows/client-management/oma-dm-protocol-support).
 * It keeps its own DM tree and answers every server command the way the Windows DM client does (418 for an Add of
 * an existing node, all-or-nothing Atomic, Results for Get, Alert 1222 to pull the rest of a split package).
 * It deliberately shares no code with the rest of src/ (test/architecture.test.ts): its XML comes from ./sim-xml.ts,
 * so the server's reader and writer are what is under test.
 */

export const ENROLLMENT_PATH = '/EnrollmentServer/Enrollment.svc';
export const MDM_PATH = '/ManagementServer/MDM.svc';
export const MDM_QUERY = '?mode=Maintenance&Platform=WoA';
export const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const METINF = { xmlns: 'syncml:metinf' };
/** A session that has not ended after this many messages is a server bug (a loop), not a long session. */
const MAX_MESSAGES_PER_SESSION = 500;


export type DevInfoField = 'Man' | 'Mod' | 'DmV' | 'Lang' | 'OEM' | 'FwV' | 'SwV' | 'HwV';

/** A server command as statusFor sees it: one Item of an Add, Replace, Delete, Exec or Get. */
export interface ServerCommand {
  verb: string;
  locUri: string;
  data?: string;
  format?: string;
}

export interface SimulatorOptions {
  /** e.g. https://127.0.0.1:PORT (no trailing slash needed). */
  baseUrl: string;
  /** Trusted server certificate (PEM); without it, the system's trusted CAs. */
  ca?: string;
  /** The user's Entra access token (JWT). */
  token: string;
  /** OMA-DM DevId (default: 32 random upper-case hex digits). */
  devId?: string;
  /** SyncHdr Meta MaxMsgSize the device advertises (default 524288). A larger server message makes sync() throw. */
  maxMsgSize?: number;
  /** Alert 1224 com.microsoft/MDM/LoginStatus (default 'user'). */
  loginStatus?: 'user' | 'others' | 'none';
  /** Send `Authorization: Bearer <token>` on OMA-DM requests (default true). */
  sendToken?: boolean;
  devInfo?: Partial<Record<DevInfoField, string>>;
  /**
   * Decides the Status code for each server command addressed to a LocURI (called once per Item). Default: 200.
   * When it answers 2xx, the DM tree still has its say: Add of an existing node 418, Delete or Get of a missing node 404.
   * Not called for malformed LocURIs (400), for Get inside Atomic (500), nor for commands an Atomic skips after a failure.
   */
  statusFor?: (command: ServerCommand) => string;
  /** Share one keep-alive agent between many simulators (benchmarks). Default: one per simulator, closed by close(). */
  agent?: Agent;
  /** Per-request timeout in milliseconds (default 30000). */
  timeoutMs?: number;
  /**
   * Carries each OMA-DM message instead of the simulator's own HTTPS request (fault tests: failover to another node,
   * the same message to two nodes). `deliver` is the simulator's own request, for the hook to use.
   */
  send?: (message: OutgoingMessage, deliver: (url: string) => Promise<HttpResult>) => Promise<HttpResult>;
  /**
   * Called with the commands of each server message once the device has applied them (statusSent: what the reply
   * says): when it answers true, the session ends there and that reply is never sent (a lost acknowledgement).
   */
  loseReplyTo?: (commands: readonly TranscriptCommand[]) => boolean;
  /**
   * The device's HealthAttestation CSP (./health-attestation.ts): answers the server's commands on its nodes and
   * raises the Result alert at the start of the session after a VerifyHealth. Absent: those nodes are plain tree nodes.
   */
  healthAttestation?: SimulatedHealthAttestation;
}

/** One device message of a session, as the `send` hook gets it. */
export interface OutgoingMessage {
  url: string;
  body: string;
  headers: Record<string, string>;
  sessionId: string;
  msgId: number;
}

export interface TranscriptCommand {
  /** Add, Replace, Delete, Exec, Get, Alert, Atomic, Sequence (or the element name of anything else the server sent). */
  verb: string;
  cmdId: string;
  /** The Item's Target LocURI; '' for Alert, Atomic and Sequence. */
  locUri: string;
  /** Item Data (for a chunked item's last chunk, the reassembled value); for Alert, the alert code. */
  data?: string;
  format?: string;
  /** CmdID of the Atomic this command was in. */
  inAtomic?: string;
  /** CmdID of the Sequence this command was in. */
  inSequence?: string;
  statusSent: string;
}

/** A Status the server sent for one of the device's commands (or its SyncHdr). */
export interface ServerStatus {
  msgRef: string;
  cmdRef: string;
  cmd: string;
  data: string;
}

export interface SessionTranscript {
  sessionId: string;
  messages: { request: string; response: string; status: number; headers: HttpResult['headers'] }[];
  /** Every server command received, in order, flattened out of Atomic/Sequence (the container comes first, then its commands). One entry per Item. */
  commands: TranscriptCommand[];
  /** The Data of the server's Status for our SyncHdr in the first response ('' if the server answered with a non-200 HTTP status); a later non-2xx one replaces it. */
  headerStatus: string;
  /** Every Status the server sent, in order. */
  serverStatuses: ServerStatus[];
  /** The session ended because `loseReplyTo` dropped the device's reply. */
  replyLost?: boolean;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface NodeValue {
  format: string;
  value: string;
}

/**
 * The server asked the device to come back later: HTTP 503 or 429 with `Retry-After` (RFC 9110 §10.2.3; OpenMAM sheds
 * load or the device is over its rate, or its database is away). The simulated device waits that long before it tries
 * again, as a client that honours it must.
 */
export class TryLaterError extends Error {
  constructor(
    /** The answer as received (its body when the caller had one: a SOAP fault, a SyncML message, a JSON error). */
    readonly response: Pick<HttpResult, 'status' | 'headers'> & { body?: string },
    readonly retryAfterSeconds: number,
    what: string,
  ) {
    super(`${what}: HTTP ${response.status}, try again in ${retryAfterSeconds} s`);
    this.name = 'TryLaterError';
  }

  get status(): number {
    return this.response.status;
  }
}

/** The answer's "try later", when it is one: 503 or 429 with Retry-After in seconds or as an HTTP date. */
export function tryLaterOf(response: Pick<HttpResult, 'status' | 'headers'> & { body?: string }, what: string, now: number = Date.now()): TryLaterError | undefined {
  if (response.status !== 503 && response.status !== 429) return undefined;
  const header = response.headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - now) / 1000);
  return Number.isFinite(seconds) ? new TryLaterError(response, Math.max(1, seconds), what) : undefined;
}

/** An enrollment answered with an HTTP status other than 200. */
export class EnrollmentHttpError extends Error {
  constructor(readonly response: HttpResult) {
    super(`enrollment: HTTP ${response.status}: ${response.body.slice(0, 500)}`);
    this.name = 'EnrollmentHttpError';
  }
}

/** An enrollment the server refused with a SOAP fault. */
export class EnrollmentRefusedError extends Error {
  constructor(
    message: string,
    readonly subcode: string,
    readonly errorType: string | undefined,
  ) {
    super(message);
    this.name = 'EnrollmentRefusedError';
  }
}

/** `./Device/Vendor/MSFT/X` and `./Vendor/MSFT/X` are the same node, as on Windows. */
export function normalizeLocUri(uri: string): string {
  const trimmed = uri.trim();
  return trimmed.startsWith('./Device/') ? `./${trimmed.slice('./Device/'.length)}` : trimmed;
}

/** The device's DM tree: leaf (and explicitly added interior) nodes by normalized LocURI; interior nodes are implied by their descendants. */
class NodeTree extends Map<string, NodeValue> {
  override get(key: string): NodeValue | undefined {
    return super.get(normalizeLocUri(key));
  }
  override has(key: string): boolean {
    return super.has(normalizeLocUri(key));
  }
  override set(key: string, value: NodeValue): this {
    return super.set(normalizeLocUri(key), value);
  }
  override delete(key: string): boolean {
    return super.delete(normalizeLocUri(key));
  }
  hasDescendants(uri: string): boolean {
    const prefix = `${normalizeLocUri(uri)}/`;
    for (const key of this.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }
  exists(uri: string): boolean {
    return this.has(uri) || this.hasDescendants(uri);
  }
  childNames(uri: string): string[] {
    const prefix = `${normalizeLocUri(uri)}/`;
    const names = new Set<string>();
    for (const key of this.keys()) if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0]!);
    return [...names];
  }
  deleteSubtree(uri: string): void {
    const prefix = `${normalizeLocUri(uri)}/`;
    for (const key of [...this.keys()]) if (key.startsWith(prefix)) super.delete(key);
    this.delete(uri);
  }
  replaceWith(other: NodeTree): void {
    this.clear();
    for (const [key, value] of other) super.set(key, value);
  }
}

const DEFAULT_DEV_INFO: Record<DevInfoField, string> = {
  Man: 'Microsoft Corporation',
  Mod: 'Virtual Machine',
  DmV: '1.3',
  Lang: 'en-US',
  OEM: 'Microsoft Corporation',
  FwV: 'Hyper-V UEFI Release v4.1',
  SwV: '10.0.22631.4460',
  HwV: 'Hyper-V UEFI Release v4.1',
};

const DEVICE_STATUS_SAMPLE: [string, NodeValue][] = [
  ['SecureBootState', { format: 'int', value: '1' }],
  ['Compliance/EncryptionCompliance', { format: 'int', value: '1' }],
  ['TPM/SpecificationVersion', { format: 'chr', value: '2.0' }],
  ['OS/Edition', { format: 'int', value: '48' }],
  ['OS/Mode', { format: 'int', value: '0' }],
  ['Antivirus/SignatureStatus', { format: 'int', value: '0' }],
  ['Antivirus/Status', { format: 'int', value: '0' }],
  ['Antispyware/SignatureStatus', { format: 'int', value: '0' }],
  ['Antispyware/Status', { format: 'int', value: '0' }],
  ['Firewall/Status', { format: 'int', value: '0' }],
  ['UAC/Status', { format: 'int', value: '1' }],
  ['Battery/Status', { format: 'int', value: '1' }],
  ['Battery/EstimatedChargeRemaining', { format: 'int', value: '87' }],
  ['Battery/EstimatedRuntime', { format: 'int', value: '-1' }],
  ['DomainName', { format: 'chr', value: '' }],
  ['DeviceGuard/VirtualizationBasedSecurityHwReq', { format: 'int', value: '0' }],
  ['DeviceGuard/VirtualizationBasedSecurityStatus', { format: 'int', value: '0' }],
  ['DeviceGuard/LsaCfgCredGuardStatus', { format: 'int', value: '0' }],
];

const ITEM_VERBS = new Set(['Add', 'Replace', 'Delete', 'Exec', 'Get']);
/** SyncML commands Windows does not implement: 406 (optional feature not supported). Anything else unknown: 400. */
const UNSUPPORTED_VERBS = new Set(['Copy', 'Map', 'Put', 'Search', 'Sync']);
/** Elements inside Atomic/Sequence that are not commands. */
const CONTAINER_FIELDS = new Set(['CmdID', 'NoResp', 'Meta']);
/** Formats whose Data is a token, so surrounding whitespace is layout, not value. */
const TRIMMED_FORMATS = new Set(['int', 'bool', 'float', 'date', 'time', 'b64']);

const ok = (code: string): boolean => /^2\d\d$/.test(code);

function invalidLocUri(uri: string): boolean {
  if (uri === '' || uri.startsWith('/')) return true;
  return uri.split('/').some((segment, index) => segment === '' || segment === '*' || segment === '..' || (segment === '.' && index > 0));
}

interface ItemOutcome {
  locUri: string;
  code: string;
  result?: NodeValue;
  entry: TranscriptCommand;
}

/** One server command's answer: one Status (or one per Item when their codes differ), Results for a Get. */
interface Outcome {
  verb: string;
  cmdId: string;
  msgRef: string;
  items: ItemOutcome[];
}

interface SessionState {
  transcript: SessionTranscript;
  /** A chunked (MoreData) item being reassembled. */
  chunk: { locUri: string; data: string } | undefined;
}

interface Context {
  msgRef: string;
  tree: NodeTree;
  session: SessionState;
  inAtomic?: string;
  inSequence?: string;
}

/**
 * The DMClient CSP's server-initiated unenrollment node (learn.microsoft.com/windows/client-management/mdm/dmclient-csp,
 * Provider/ProviderID/Unenroll: Exec, the provider id in Data).
 */
const UNENROLL_NODE = /^\.\/(?:Device\/)?Vendor\/MSFT\/DMClient\/Provider\/([^/]+)\/Unenroll$/i;
const REVOKE_ON_UNENROLL = './Vendor/MSFT/EnterpriseDataProtection/Settings/RevokeOnUnenroll';

/** What the device did when the server unenrolled it. */
export interface ServerUnenrollment {
  providerId: string;
  /** WIP keys revoked (EnterpriseDataProtection RevokeOnUnenroll other than 0, which is the CSP's default 1). */
  wipDataRevoked: boolean;
}

/** sync() of a device the server unenrolled: its work account is gone, it has no management session to start. */
export class NotEnrolledError extends Error {
  constructor(devId: string) {
    super(`device ${devId} is not enrolled: the server unenrolled it (DMClient Unenroll); enroll again first`);
    this.name = 'NotEnrolledError';
  }
}

export class DeviceSimulator {
  readonly devId: string;
  readonly nodes: Map<string, NodeValue>;
  /** Set when the device acknowledged a server's Unenroll: no more sessions until it enrolls again. */
  unenrolledByServer: ServerUnenrollment | undefined;
  private readonly tree: NodeTree;
  private readonly options: SimulatorOptions;
  private readonly baseUrl: string;
  private readonly agent: Agent;
  private readonly ownsAgent: boolean;
  private readonly maxMsgSize: number;

  constructor(options: SimulatorOptions) {
    // A copy: useToken() replaces the token without touching the caller's object.
    this.options = { ...options };
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.devId = options.devId ?? randomBytes(16).toString('hex').toUpperCase();
    this.maxMsgSize = options.maxMsgSize ?? 524288;
    this.ownsAgent = options.agent === undefined;
    this.agent = options.agent ?? new Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) });
    this.tree = new NodeTree();
    this.nodes = this.tree;
    this.tree.set('./DevInfo/DevId', { format: 'chr', value: this.devId });
    for (const [field, value] of Object.entries({ ...DEFAULT_DEV_INFO, ...options.devInfo })) this.tree.set(`./DevInfo/${field}`, { format: 'chr', value });
    for (const [path, value] of DEVICE_STATUS_SAMPLE) this.tree.set(`./Vendor/MSFT/DeviceStatus/${path}`, { ...value });
  }

  /** The Target LocURI of every message: the management server's URL. */
  get serverUri(): string {
    return `${this.baseUrl}${MDM_PATH}`;
  }

  /** The token of the next enrollment and OMA-DM messages (a fresh one before the held one expires). */
  useToken(token: string): void {
    this.options.token = token;
  }

  /**
   * Sets what the device's DeviceStatus CSP reports from its next inventory read on (e.g. `Firewall/Status` '1':
   * the firewall is off; learn.microsoft.com/windows/client-management/mdm/devicestatus-csp). The OS version is the
   * enrollment's: `enroll({ OSVersion: '10.0.19045.1' })`.
   */
  setDeviceStatus(path: string, value: string, format = 'int'): void {
    this.tree.set(`./Vendor/MSFT/DeviceStatus/${path}`, { format, value });
  }

  /** Closes the keep-alive connections (only when the simulator made its own agent). */
  close(): void {
    if (this.ownsAgent) this.agent.destroy();
  }

  /** MAM enrollment with the fixture RST. extraContext items replace the fixture's item of that name, or are appended. */
  async enroll(extraContext: Record<string, string> = {}): Promise<string> {
    const url = `${this.baseUrl}${ENROLLMENT_PATH}`;
    let xml = RST_MAM_JWT_TEMPLATE.replaceAll('{{TOKEN_BASE64}}', Buffer.from(this.options.token, 'utf8').toString('base64'))
      .replaceAll('{{DEVICE_ID}}', escapeText(this.devId))
      .replace(/urn:uuid:[0-9a-f-]{36}/, `urn:uuid:${randomUUID()}`)
      .replace(/(<a:To[^>]*>)[^<]*(<\/a:To>)/, (_m, open: string, close: string) => `${open}${escapeText(url)}${close}`);
    let appended = '';
    for (const [name, value] of Object.entries(extraContext)) {
      const item = new RegExp(`(<ac:ContextItem Name="${name.replace(/[^\w-]/g, '')}">\\s*<ac:Value>)[^<]*(</ac:Value>)`, 'g');
      if (item.test(xml)) xml = xml.replace(item, (_m, open: string, close: string) => `${open}${escapeText(value)}${close}`);
      else appended += el('ac:ContextItem', { Name: name }, el('ac:Value', undefined, value)).raw;
    }
    xml = xml.replace('</ac:AdditionalContext>', `${appended}</ac:AdditionalContext>`);
    const response = await this.http(url, xml, {
      'Content-Type': SOAP_CONTENT_TYPE,
      'User-Agent': 'ENROLLClient',
      'Client-Request-Id': randomUUID(),
    });
    if (response.status !== 200) throw tryLaterOf(response, 'enrollment') ?? new EnrollmentHttpError(response);
    const envelope = parseSimXml(response.body);
    const fault = findFirst(envelope, 'Fault');
    if (fault) {
      const reason = findFirst(fault, 'Text')?.text.trim() ?? '';
      const subcode = textAt(child(child(fault, 'Code'), 'Subcode'), 'Value') ?? '';
      const detail = findFirst(fault, 'deviceenrollmentserviceerror');
      const errorType = detail ? findFirst(detail, 'errortype')?.text.trim() : undefined;
      throw new EnrollmentRefusedError(`enrollment refused (${subcode}${errorType ? `, ${errorType}` : ''}): ${reason}`, subcode, errorType);
    }
    const requested = findFirst(envelope, 'RequestedSecurityToken');
    const token = requested && findFirst(requested, 'BinarySecurityToken');
    if (!token) throw new Error(`enrollment: no RequestedSecurityToken/BinarySecurityToken in the response: ${response.body.slice(0, 500)}`);
    this.unenrolledByServer = undefined;
    return Buffer.from(token.text.trim(), 'base64').toString('utf8');
  }

  /** One full client-initiated OMA-DM session. */
  sync(): Promise<SessionTranscript> {
    if (this.unenrolledByServer) return Promise.reject(new NotEnrolledError(this.devId));
    return this.session([]);
  }

  /** A session whose package 1 carries the 1226 user-unenrollment alert. */
  unenroll(): Promise<SessionTranscript> {
    return this.session([
      {
        code: '1226',
        item: el(
          'Item',
          undefined,
          el('Meta', undefined, el('Type', METINF, 'com.microsoft:mdm.unenrollment.userrequest'), el('Format', METINF, 'int')),
          el('Data', undefined, '1'),
        ),
      },
    ]);
  }

  /**
   * POSTs one raw body to the management endpoint with the device's headers. `headers` override them
   * (case-insensitively); an override of '' removes that header. `pathAndQuery` defaults to the MDM path and query.
   */
  post(body: string, headers: Record<string, string> = {}, pathAndQuery = `${MDM_PATH}${MDM_QUERY}`): Promise<HttpResult> {
    return this.http(`${this.baseUrl}${pathAndQuery}`, body, { ...this.syncmlHeaders(), ...lowerKeys(headers) });
  }

  private syncmlHeaders(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': SYNCML_CONTENT_TYPE,
      'user-agent': 'MSFT OMA DM Client/1.2.0.1',
      accept: 'application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, application/octet-stream',
      'accept-language': 'en-US',
      'client-request-id': randomUUID(),
      'ms-cv': `${randomBytes(12).toString('base64')}.0`,
    };
    if (this.options.sendToken ?? true) headers['authorization'] = `Bearer ${this.options.token}`;
    return headers;
  }

  private http(url: string, body: string, headers: Record<string, string>): Promise<HttpResult> {
    const sent: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== '') sent[name] = value;
    sent['content-length'] = Buffer.byteLength(body, 'utf8');
    const timeout = this.options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent: this.agent, ...(this.options.ca === undefined ? {} : { ca: this.options.ca }), headers: sent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer from ${url} within ${timeout} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private header(sessionId: string, msgId: number): RawXml {
    return el(
      'SyncHdr',
      undefined,
      el('VerDTD', undefined, '1.2'),
      el('VerProto', undefined, 'DM/1.2'),
      el('SessionID', undefined, sessionId),
      el('MsgID', undefined, String(msgId)),
      el('Target', undefined, el('LocURI', undefined, this.serverUri)),
      el('Source', undefined, el('LocURI', undefined, this.devId)),
      el('Meta', undefined, el('MaxMsgSize', METINF, String(this.maxMsgSize))),
    );
  }

  private message(sessionId: string, msgId: number, body: RawXml[]): string {
    return el('SyncML', { xmlns: 'SYNCML:SYNCML1.2' }, this.header(sessionId, msgId), el('SyncBody', undefined, body, el('Final', undefined))).raw;
  }

  /** Package 1: Alert 1201, the extra alerts (unenrollment), Alert 1224 LoginStatus, Replace of DevInfo. */
  private packageOne(sessionId: string, extraAlerts: { code: string; item: RawXml }[]): string {
    let cmdId = 0;
    const next = (): string => String(++cmdId);
    const body: RawXml[] = [el('Alert', undefined, el('CmdID', undefined, next()), el('Data', undefined, '1201'))];
    for (const alert of extraAlerts) body.push(el('Alert', undefined, el('CmdID', undefined, next()), el('Data', undefined, alert.code), alert.item));
    body.push(
      el(
        'Alert',
        undefined,
        el('CmdID', undefined, next()),
        el('Data', undefined, '1224'),
        el('Item', undefined, el('Meta', undefined, el('Type', METINF, 'com.microsoft/MDM/LoginStatus')), el('Data', undefined, this.options.loginStatus ?? 'user')),
      ),
    );
    body.push(
      el(
        'Replace',
        undefined,
        el('CmdID', undefined, next()),
        ['DevId', 'Man', 'Mod', 'DmV', 'Lang'].map((field) =>
          el('Item', undefined, el('Source', undefined, el('LocURI', undefined, `./DevInfo/${field}`)), el('Data', undefined, this.tree.get(`./DevInfo/${field}`)?.value ?? '')),
        ),
      ),
    );
    return this.message(sessionId, 1, body);
  }

  private async session(extraAlerts: { code: string; item: RawXml }[]): Promise<SessionTranscript> {
    // A VerifyHealth of an earlier session was carried out meanwhile: its result is this session's alert (Windows
    // raises 1226 com.microsoft.mdm:HealthAttestation.Result; healthattestation-csp, step 4).
    const attestation = await this.options.healthAttestation?.prepare();
    if (attestation) extraAlerts = [...extraAlerts, { code: '1226', item: attestation }];
    const sessionId = (1 + randomBytes(2).readUInt16BE(0) % 0xfff).toString(16).toUpperCase();
    const transcript: SessionTranscript = { sessionId, messages: [], commands: [], headerStatus: '', serverStatuses: [] };
    const state: SessionState = { transcript, chunk: undefined };
    let url = `${this.baseUrl}${MDM_PATH}${MDM_QUERY}`;
    let msgId = 1;
    let body = this.packageOne(sessionId, extraAlerts);
    for (;;) {
      if (transcript.messages.length >= MAX_MESSAGES_PER_SESSION) throw new Error(`session ${sessionId}: still going after ${MAX_MESSAGES_PER_SESSION} messages`);
      const headers = this.syncmlHeaders();
      const sent = body;
      const deliver = (to: string): Promise<HttpResult> => this.http(to, sent, headers);
      const response = this.options.send ? await this.options.send({ url, body, headers, sessionId, msgId }, deliver) : await deliver(url);
      transcript.messages.push({ request: body, response: response.body, status: response.status, headers: response.headers });
      if (response.status !== 200 || response.body.trim() === '') return transcript;
      const size = Buffer.byteLength(response.body, 'utf8');
      if (size > this.maxMsgSize) throw new Error(`session ${sessionId}: server message of ${size} bytes exceeds the device's MaxMsgSize ${this.maxMsgSize}`);
      const root = parseSimXml(response.body);
      const header = child(root, 'SyncHdr');
      const syncBody = child(root, 'SyncBody');
      if (root.name !== 'SyncML' || !header || !syncBody) throw new Error(`session ${sessionId}: the response is not a SyncML message: ${response.body.slice(0, 300)}`);
      const serverSession = textAt(header, 'SessionID') ?? '';
      if (serverSession.toUpperCase() !== sessionId) throw new Error(`session ${sessionId}: the server answered with SessionID '${serverSession}'`);
      const serverMsgId = textAt(header, 'MsgID') ?? '';
      const respUri = textAt(header, 'RespURI');
      if (respUri) url = new URL(respUri, url).toString();

      const statuses = children(syncBody, 'Status').map((s) => ({
        msgRef: textAt(s, 'MsgRef') ?? '',
        cmdRef: textAt(s, 'CmdRef') ?? '',
        cmd: textAt(s, 'Cmd') ?? '',
        data: textAt(s, 'Data') ?? '',
      }));
      transcript.serverStatuses.push(...statuses);
      const headerStatus = statuses.find((s) => s.cmdRef === '0' && s.cmd === 'SyncHdr');
      if (!headerStatus) throw new Error(`session ${sessionId}: the server's message ${serverMsgId} has no Status for the SyncHdr`);
      if (transcript.messages.length === 1 || !ok(headerStatus.data)) transcript.headerStatus = headerStatus.data;
      if (!ok(headerStatus.data)) return transcript;

      const commands = syncBody.children.filter((c) => c.name !== 'Status' && c.name !== 'Results' && c.name !== 'Final');
      if (commands.length === 0) return transcript;
      const final = child(syncBody, 'Final') !== undefined;
      const outcomes: Outcome[] = [];
      const context: Context = { msgRef: serverMsgId, tree: this.tree, session: state };
      const applied = transcript.commands.length;
      for (const command of commands) this.process(command, context, outcomes);
      const wantsMore =
        !final ||
        outcomes.some((o) => o.verb === 'Alert' && o.items.some((i) => i.entry.data === '1222')) ||
        outcomes.some((o) => o.items.some((i) => i.code === '213'));
      body = this.message(sessionId, ++msgId, this.reply(serverMsgId, outcomes, wantsMore));
      if (this.options.loseReplyTo?.(transcript.commands.slice(applied))) {
        transcript.replyLost = true;
        return transcript;
      }
    }
  }

  /** Statuses (SyncHdr first), Results, and Alert 1222 when the server's package is not complete. */
  private reply(serverMsgId: string, outcomes: Outcome[], wantsMore: boolean): RawXml[] {
    let cmdId = 0;
    const next = (): string => String(++cmdId);
    const status = (msgRef: string, cmdRef: string, cmd: string, code: string, targetRef?: string): RawXml =>
      el(
        'Status',
        undefined,
        el('CmdID', undefined, next()),
        el('MsgRef', undefined, msgRef),
        el('CmdRef', undefined, cmdRef),
        el('Cmd', undefined, cmd),
        targetRef !== undefined && el('TargetRef', undefined, targetRef),
        el('Data', undefined, code),
      );
    const body: RawXml[] = [status(serverMsgId, '0', 'SyncHdr', '200')];
    for (const outcome of outcomes) {
      for (const item of outcome.items) item.entry.statusSent = item.code;
      const codes = new Set(outcome.items.map((i) => i.code));
      if (codes.size === 1) body.push(status(outcome.msgRef, outcome.cmdId, outcome.verb, outcome.items[0]!.code));
      else for (const item of outcome.items) body.push(status(outcome.msgRef, outcome.cmdId, outcome.verb, item.code, item.locUri));
      const found = outcome.items.filter((i) => i.result !== undefined && ok(i.code));
      if (outcome.verb === 'Get' && found.length > 0) {
        body.push(
          el(
            'Results',
            undefined,
            el('CmdID', undefined, next()),
            el('MsgRef', undefined, outcome.msgRef),
            el('CmdRef', undefined, outcome.cmdId),
            found.map((i) =>
              el(
                'Item',
                undefined,
                el('Source', undefined, el('LocURI', undefined, i.locUri)),
                el('Meta', undefined, el('Format', METINF, i.result!.format)),
                el('Data', undefined, i.result!.value),
              ),
            ),
          ),
        );
      }
    }
    if (wantsMore) body.push(el('Alert', undefined, el('CmdID', undefined, next()), el('Data', undefined, '1222')));
    return body;
  }

  private entry(verb: string, cmdId: string, locUri: string, context: Context, data?: string, format?: string): TranscriptCommand {
    const entry: TranscriptCommand = { verb, cmdId, locUri, statusSent: '' };
    if (data !== undefined) entry.data = data;
    if (format !== undefined) entry.format = format;
    if (context.inAtomic !== undefined) entry.inAtomic = context.inAtomic;
    if (context.inSequence !== undefined) entry.inSequence = context.inSequence;
    context.session.transcript.commands.push(entry);
    return entry;
  }

  /** A command answered with one code and nothing executed. */
  private single(element: SimElement, context: Context, outcomes: Outcome[], code: string, data?: string): Outcome {
    const cmdId = textAt(element, 'CmdID') ?? '';
    const outcome: Outcome = { verb: element.name, cmdId, msgRef: context.msgRef, items: [{ locUri: '', code, entry: this.entry(element.name, cmdId, '', context, data) }] };
    outcomes.push(outcome);
    return outcome;
  }

  /** Records a command (and everything inside it) as not executed, with this code for all of it: Atomic rollback, nested Atomic. */
  private skip(element: SimElement, context: Context, outcomes: Outcome[], code: string): void {
    const cmdId = textAt(element, 'CmdID') ?? '';
    if (ITEM_VERBS.has(element.name)) {
      const items = children(element, 'Item').map((item) => {
        const locUri = textAt(item, 'Target', 'LocURI') ?? '';
        const { data, format } = itemData(element, item);
        return { locUri, code, entry: this.entry(element.name, cmdId, locUri, context, data, format) };
      });
      outcomes.push({ verb: element.name, cmdId, msgRef: context.msgRef, items: items.length > 0 ? items : [{ locUri: '', code, entry: this.entry(element.name, cmdId, '', context) }] });
      return;
    }
    this.single(element, context, outcomes, code, element.name === 'Alert' ? textAt(element, 'Data') : undefined);
    if (element.name === 'Atomic' || element.name === 'Sequence') {
      const inner: Context = element.name === 'Atomic' ? { ...context, inAtomic: cmdId } : { ...context, inSequence: cmdId };
      for (const c of element.children) if (!CONTAINER_FIELDS.has(c.name)) this.skip(c, inner, outcomes, code);
    }
  }

  /** Executes one server command against context.tree; returns false when any part of it failed (non-2xx). */
  private process(element: SimElement, context: Context, outcomes: Outcome[]): boolean {
    const cmdId = textAt(element, 'CmdID') ?? '';
    if (cmdId === '') return ok(this.single(element, context, outcomes, '400').items[0]!.code);
    if (ITEM_VERBS.has(element.name)) return this.processItems(element, cmdId, context, outcomes);
    switch (element.name) {
      case 'Alert':
        this.single(element, context, outcomes, '200', textAt(element, 'Data') ?? '');
        return true;
      case 'Sequence': {
        const own = this.single(element, context, outcomes, '200');
        const inner: Context = { ...context, inSequence: cmdId };
        let allOk = true;
        for (const c of element.children) if (!CONTAINER_FIELDS.has(c.name)) allOk = this.process(c, inner, outcomes) && allOk;
        return allOk && ok(own.items[0]!.code);
      }
      case 'Atomic':
        return this.processAtomic(element, cmdId, context, outcomes);
      default:
        this.single(element, context, outcomes, UNSUPPORTED_VERBS.has(element.name) ? '406' : '400');
        return false;
    }
  }

  /** All or nothing: run on a copy of the tree; on the first failure, 507 for the Atomic, its code for the failing item, 216 for the rest. */
  private processAtomic(element: SimElement, cmdId: string, context: Context, outcomes: Outcome[]): boolean {
    if (context.inAtomic !== undefined) {
      // Nested Atomic: Windows answers 500 for it (and 507 for its parent); nothing inside runs.
      const start = outcomes.length;
      this.skip(element, context, outcomes, '216');
      outcomes[start]!.items[0]!.code = '500';
      return false;
    }
    const own = this.single(element, context, outcomes, '200');
    const staging = new NodeTree(context.tree);
    const inner: Context = { ...context, tree: staging, inAtomic: cmdId };
    const start = outcomes.length;
    let failing: ItemOutcome | undefined;
    for (const c of element.children) {
      if (CONTAINER_FIELDS.has(c.name)) continue;
      if (failing) {
        this.skip(c, inner, outcomes, '216');
        continue;
      }
      const before = outcomes.length;
      if (!this.process(c, inner, outcomes)) {
        failing = outcomes
          .slice(before)
          .flatMap((o) => o.items)
          .find((i) => !ok(i.code));
      }
    }
    if (!failing) {
      context.tree.replaceWith(staging);
      return true;
    }
    own.items[0]!.code = '507';
    for (const outcome of outcomes.slice(start)) for (const item of outcome.items) if (item !== failing) item.code = '216';
    return false;
  }

  private processItems(element: SimElement, cmdId: string, context: Context, outcomes: Outcome[]): boolean {
    const verb = element.name;
    const items = children(element, 'Item');
    if (items.length === 0) return ok(this.single(element, context, outcomes, '400').items[0]!.code);
    const outcome: Outcome = { verb, cmdId, msgRef: context.msgRef, items: [] };
    outcomes.push(outcome);
    for (const item of items) {
      const locUri = textAt(item, 'Target', 'LocURI') ?? '';
      const { data, format } = itemData(element, item);
      const moreData = child(item, 'MoreData') !== undefined;
      const entry = this.entry(verb, cmdId, locUri, context, data, format);
      const result = this.execute(verb, locUri, data, format, moreData, context, entry);
      outcome.items.push({ locUri, code: result.code, ...(result.value ? { result: result.value } : {}), entry });
    }
    return outcome.items.every((i) => ok(i.code));
  }

  private execute(
    verb: string,
    locUri: string,
    received: string | undefined,
    format: string | undefined,
    moreData: boolean,
    context: Context,
    entry: TranscriptCommand,
  ): { code: string; value?: NodeValue } {
    if (invalidLocUri(locUri)) return { code: '400' };
    if (verb === 'Get' && context.inAtomic !== undefined) return { code: '500' };
    let data = received;
    if (verb === 'Add' || verb === 'Replace') {
      // Large objects: chunks with MoreData are accepted with 213 and reassembled; the last chunk carries no MoreData.
      const chunk = context.session.chunk;
      if (chunk && chunk.locUri === normalizeLocUri(locUri)) {
        data = chunk.data + (data ?? '');
        context.session.chunk = undefined;
      }
      if (moreData) {
        context.session.chunk = { locUri: normalizeLocUri(locUri), data: data ?? '' };
        return { code: '213' };
      }
      if (data !== received && data !== undefined) entry.data = data;
    }
    const command: ServerCommand = { verb, locUri };
    if (data !== undefined) command.data = data;
    if (format !== undefined) command.format = format;
    const code = this.options.statusFor ? this.options.statusFor(command) : '200';
    if (!ok(code)) return { code };
    const attested = this.options.healthAttestation?.execute(verb, locUri, data);
    if (attested) return attested;
    const tree = context.tree;
    switch (verb) {
      case 'Add':
        if (tree.exists(locUri)) return { code: '418' };
        tree.set(locUri, { format: format ?? 'chr', value: format === 'node' ? '' : (data ?? '') });
        return { code };
      case 'Replace':
        tree.set(locUri, { format: format ?? tree.get(locUri)?.format ?? 'chr', value: data ?? '' });
        return { code };
      case 'Delete':
        if (!tree.exists(locUri)) return { code: '404' };
        tree.deleteSubtree(locUri);
        return { code };
      case 'Exec': {
        const unenroll = UNENROLL_NODE.exec(normalizeLocUri(locUri));
        if (unenroll) {
          // Windows unenrolls the provider the Data names; another name is no account of this device.
          if ((data ?? '').trim() !== unenroll[1]) return { code: '404' };
          this.unenrolledByServer = { providerId: unenroll[1]!, wipDataRevoked: tree.get(REVOKE_ON_UNENROLL)?.value.trim() !== '0' };
        }
        return { code };
      }
      case 'Get': {
        const leaf = tree.get(locUri);
        if (leaf && (leaf.format !== 'node' || !tree.hasDescendants(locUri))) return { code, value: { ...leaf } };
        if (leaf || tree.hasDescendants(locUri)) return { code, value: { format: 'node', value: tree.childNames(locUri).join('/') } };
        return { code: '404' };
      }
      default:
        return { code };
    }
  }
}

/** Item Data and Format (the Item's Meta, else the command's). Embedded unescaped XML in Data is taken as its source text. */
function itemData(command: SimElement, item: SimElement): { data?: string; format?: string } {
  const format = textAt(item, 'Meta', 'Format') ?? textAt(command, 'Meta', 'Format');
  const dataElement = child(item, 'Data');
  const out: { data?: string; format?: string } = {};
  if (format !== undefined) out.format = format;
  if (dataElement) {
    const value = dataElement.children.length > 0 ? dataElement.inner.trim() : dataElement.text;
    out.data = format !== undefined && TRIMMED_FORMATS.has(format) ? value.trim() : value;
  }
  return out;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
