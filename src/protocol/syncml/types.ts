/**
 * SyncML DM 1.2 messages as Windows exchanges them (OMA-DM; [MS-MDM]; windows-itpro-docs "OMA DM protocol support").
 * Types are named after the spec elements. Commands keep document order: a message body is an ordered list, never
 * buckets per verb.
 */

export const SYNCML_NAMESPACE = 'SYNCML:SYNCML1.2';
export const METINF_NAMESPACE = 'syncml:metinf';
export const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';

/** SyncHdr. `source` is the sender's LocURI: for a device, its DevId; for the server, its URL. */
export interface SyncHdr {
  verDtd: string;
  verProto: string;
  sessionId: string;
  msgId: string;
  target: string;
  source: string;
  /** Meta/MaxMsgSize: the largest message (bytes) the sender accepts in return. */
  maxMsgSize?: number;
}

/** Meta of a command or item (syncml:metinf). */
export interface Meta {
  /** chr, int, bool, b64, xml, node, float, date, time, null. */
  format?: string;
  /** MIME type, e.g. text/plain. */
  type?: string;
}

export interface Item {
  target?: string;
  source?: string;
  meta?: Meta;
  /** Character data of Data, unescaped. For Format xml, the inner XML as text. */
  data?: string;
  /** MoreData: the item continues in the next message (large objects). */
  moreData?: boolean;
}

interface CommandBase {
  cmdId: string;
}

/** Alert: `data` is the alert code (1201 client-initiated session, 1224/1226 generic, 1222 more messages, ...). */
export interface Alert extends CommandBase {
  kind: 'Alert';
  data: string;
  items: Item[];
}

export type ItemCommandKind = 'Add' | 'Replace' | 'Delete' | 'Exec' | 'Get';

export interface ItemCommand extends CommandBase {
  kind: ItemCommandKind;
  meta?: Meta;
  items: Item[];
}

export interface Atomic extends CommandBase {
  kind: 'Atomic';
  commands: Command[];
}

export interface Sequence extends CommandBase {
  kind: 'Sequence';
  commands: Command[];
}

/** Status of a command (or of the SyncHdr: cmdRef '0', cmd 'SyncHdr'). `data` is the status code. */
export interface Status extends CommandBase {
  kind: 'Status';
  msgRef: string;
  cmdRef: string;
  cmd: string;
  data: string;
  targetRefs?: string[];
  sourceRefs?: string[];
  items?: Item[];
}

/** Results of a Get. */
export interface Results extends CommandBase {
  kind: 'Results';
  msgRef: string;
  cmdRef: string;
  meta?: Meta;
  items: Item[];
}

export type Command = Alert | ItemCommand | Atomic | Sequence | Status | Results;

export interface SyncMLMessage {
  header: SyncHdr;
  /** In document order. */
  body: Command[];
  /** `<Final/>`: the sender has nothing more in this package. */
  final: boolean;
}

/** Status codes used by OpenMAM (SyncML Representation Protocol, [MS-MDM]). */
export const STATUS = {
  ok: '200',
  accepted: '202',
  authenticationAccepted: '212',
  chunkedItemAccepted: '213',
  notExecuted: '215',
  atomicRollbackOk: '216',
  badRequest: '400',
  invalidCredentials: '401',
  forbidden: '403',
  notFound: '404',
  commandNotAllowed: '405',
  optionalFeatureNotSupported: '406',
  missingCredentials: '407',
  requestEntityTooLarge: '413',
  unsupportedMediaType: '415',
  alreadyExists: '418',
  deviceFull: '420',
  commandFailed: '500',
  serviceUnavailable: '503',
  atomicFailed: '507',
} as const;

/** Alert codes ([MS-MDM] 2.2.7.2). */
export const ALERT = {
  serverInitiatedSession: '1200',
  clientInitiatedSession: '1201',
  nextMessage: '1222',
  sessionAbort: '1223',
  clientEvent: '1224',
  genericAlert: '1226',
} as const;
