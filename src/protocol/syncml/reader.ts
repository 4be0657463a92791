import { XmlError, parseXml, type XmlElement, type XmlLimits } from '../xml/reader.ts';
import {
  METINF_NAMESPACE,
  SYNCML_NAMESPACE,
  type Alert,
  type Atomic,
  type Command,
  type Item,
  type ItemCommand,
  type ItemCommandKind,
  type Meta,
  type Results,
  type Sequence,
  type Status,
  type SyncHdr,
  type SyncMLMessage,
} from './types.ts';

/**
 * Reads a SyncML DM 1.2 message (windows-itpro-docs "OMA DM protocol support") into the typed messages of types.ts.
 * One pass over each element's children, no lookups by name: the tree from parseXml is walked once.
 *
 * Identifiers (CmdID, MsgRef, CmdRef, LocURI, codes, Meta values) are trimmed; Item Data is given exactly as sent
 * (entities and CDATA decoded, whitespace kept). Elements SyncML allows but OpenMAM does not model (Cred, NoResp,
 * Correlator, MaxObjSize, ...) are skipped; an unknown element where a command is expected is refused.
 */

/** Any SyncML message we cannot read: malformed or refused XML, not SyncML, or a missing required element. */
export class SyncMLFormatError extends Error {
  override readonly name = 'SyncMLFormatError';
}

export function parseSyncML(xml: string, limits?: XmlLimits): SyncMLMessage {
  let root: XmlElement;
  try {
    root = parseXml(xml, limits);
  } catch (error) {
    throw new SyncMLFormatError(`malformed XML: ${error instanceof XmlError ? error.message : String(error)}`, { cause: error });
  }
  if (root.local !== 'SyncML' || !isSyncMLNamespace(root.ns)) {
    throw new SyncMLFormatError(`not a SyncML 1.2 message: the root element is ${nameOf(root)}, expected SyncML in ${SYNCML_NAMESPACE}`);
  }
  const ns = root.ns;
  let headerElement: XmlElement | undefined;
  let bodyElement: XmlElement | undefined;
  for (const child of root.children) {
    if (inSyncML(child, ns) && child.local === 'SyncHdr' && !headerElement) headerElement = child;
    else if (inSyncML(child, ns) && child.local === 'SyncBody' && !bodyElement) bodyElement = child;
    else throw new SyncMLFormatError(`unexpected element ${nameOf(child)} in SyncML`);
  }
  if (!headerElement) throw new SyncMLFormatError('SyncML has no SyncHdr');
  if (!bodyElement) throw new SyncMLFormatError('SyncML has no SyncBody');
  const header = readHeader(headerElement, ns);

  const body: Command[] = [];
  let final = false;
  for (const child of bodyElement.children) {
    if (final) throw new SyncMLFormatError(`${nameOf(child)} after Final in SyncBody: Final must be the last element`);
    if (child.local === 'Final' && inSyncML(child, ns)) final = true;
    else body.push(readCommand(child, ns, 'SyncBody', false));
  }
  return { header, body, final };
}

/** Clients vary in the case of the namespace (`syncml:syncml1.2`): compare case-insensitively, exact match first. */
function isSyncMLNamespace(ns: string): boolean {
  return ns === SYNCML_NAMESPACE || ns.toUpperCase() === SYNCML_NAMESPACE;
}

/** Children of a default-namespace document carry the root's namespace string: that comparison is the fast path. */
function inSyncML(element: XmlElement, ns: string): boolean {
  return element.ns === ns || isSyncMLNamespace(element.ns);
}

/** Meta children are in syncml:metinf, or unqualified (no namespace, or the SyncML default namespace). */
function inMetInf(element: XmlElement, ns: string): boolean {
  return element.ns === METINF_NAMESPACE || element.ns === '' || element.ns === ns || element.ns.toLowerCase() === METINF_NAMESPACE || isSyncMLNamespace(element.ns);
}

function nameOf(element: XmlElement): string {
  return element.ns === '' ? `<${element.local}>` : `<${element.local}> (namespace ${element.ns})`;
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new SyncMLFormatError(`${what} is missing or empty`);
  return value;
}

/** Target or Source: the trimmed text of its LocURI. */
function locUri(element: XmlElement, ns: string, where: string): string {
  for (const child of element.children) {
    if (child.local === 'LocURI' && inSyncML(child, ns)) return child.text.trim();
  }
  throw new SyncMLFormatError(`${where} ${element.local} has no LocURI`);
}

function readHeader(element: XmlElement, ns: string): SyncHdr {
  let verDtd: string | undefined;
  let verProto: string | undefined;
  let sessionId: string | undefined;
  let msgId: string | undefined;
  let target: string | undefined;
  let source: string | undefined;
  let maxMsgSize: number | undefined;
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    switch (child.local) {
      case 'VerDTD':
        verDtd = child.text.trim();
        break;
      case 'VerProto':
        verProto = child.text.trim();
        break;
      case 'SessionID':
        sessionId = child.text.trim();
        break;
      case 'MsgID':
        msgId = child.text.trim();
        break;
      case 'Target':
        target = locUri(child, ns, 'SyncHdr');
        break;
      case 'Source':
        source = locUri(child, ns, 'SyncHdr');
        break;
      case 'Meta':
        maxMsgSize = readMaxMsgSize(child, ns) ?? maxMsgSize;
        break;
      default:
        // Cred, RespURI, NoResp: not modelled.
        break;
    }
  }
  const header: SyncHdr = {
    verDtd: required(verDtd, 'SyncHdr VerDTD'),
    verProto: required(verProto, 'SyncHdr VerProto'),
    sessionId: required(sessionId, 'SyncHdr SessionID'),
    msgId: required(msgId, 'SyncHdr MsgID'),
    target: target ?? '',
    source: required(source, 'SyncHdr Source LocURI'),
  };
  if (maxMsgSize !== undefined) header.maxMsgSize = maxMsgSize;
  return header;
}

function readMaxMsgSize(meta: XmlElement, ns: string): number | undefined {
  for (const child of meta.children) {
    if (child.local !== 'MaxMsgSize' || !inMetInf(child, ns)) continue;
    const text = child.text.trim();
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value === 0) {
      throw new SyncMLFormatError(`SyncHdr Meta MaxMsgSize is not a positive integer: '${text.slice(0, 40)}'`);
    }
    return value;
  }
  return undefined;
}

/** `where` names the enclosing element for messages: SyncBody, or `Atomic 7` for a nested command. */
function readCommand(element: XmlElement, ns: string, where: string, nested: boolean): Command {
  if (!inSyncML(element, ns)) throw new SyncMLFormatError(`unknown element ${nameOf(element)} in ${where}`);
  switch (element.local) {
    case 'Alert':
      return readAlert(element, ns, where);
    case 'Add':
    case 'Replace':
    case 'Delete':
    case 'Exec':
    case 'Get':
      return readItemCommand(element, element.local, ns, where);
    case 'Atomic':
    case 'Sequence':
      return readContainer(element, element.local, ns, where);
    case 'Status':
    case 'Results':
      if (nested) throw new SyncMLFormatError(`${element.local} is not allowed inside ${where}`);
      return element.local === 'Status' ? readStatus(element, ns, where) : readResults(element, ns, where);
    case 'Final':
      throw new SyncMLFormatError(`Final is not allowed inside ${where}`);
    default:
      throw new SyncMLFormatError(`unknown element ${nameOf(element)} in ${where}`);
  }
}

function commandId(value: string | undefined, kind: string, where: string): string {
  if (value === undefined || value === '') throw new SyncMLFormatError(`${kind} in ${where} has no CmdID`);
  return value;
}

function readAlert(element: XmlElement, ns: string, where: string): Alert {
  let cmdId: string | undefined;
  let data: string | undefined;
  const items: Item[] = [];
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    if (child.local === 'CmdID') cmdId = child.text.trim();
    else if (child.local === 'Data') data = child.text.trim();
    else if (child.local === 'Item') items.push(readItem(child, ns, 'Alert'));
  }
  const id = commandId(cmdId, 'Alert', where);
  return { kind: 'Alert', cmdId: id, data: required(data, `Alert ${id} Data (the alert code)`), items };
}

function readItemCommand(element: XmlElement, kind: ItemCommandKind, ns: string, where: string): ItemCommand {
  let cmdId: string | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    if (child.local === 'CmdID') cmdId = child.text.trim();
    else if (child.local === 'Item') items.push(readItem(child, ns, kind));
    else if (child.local === 'Meta') meta = readMeta(child, ns);
  }
  const command: ItemCommand = { kind, cmdId: commandId(cmdId, kind, where), items };
  if (meta) command.meta = meta;
  return command;
}

function readContainer(element: XmlElement, kind: 'Atomic' | 'Sequence', ns: string, where: string): Atomic | Sequence {
  let cmdId: string | undefined;
  const commands: Command[] = [];
  let inner = `${kind} in ${where}`;
  for (const child of element.children) {
    if (inSyncML(child, ns)) {
      if (child.local === 'CmdID') {
        cmdId = child.text.trim();
        inner = `${kind} ${cmdId}`;
        continue;
      }
      if (child.local === 'Meta' || child.local === 'NoResp') continue;
    }
    commands.push(readCommand(child, ns, inner, true));
  }
  return { kind, cmdId: commandId(cmdId, kind, where), commands };
}

function readStatus(element: XmlElement, ns: string, where: string): Status {
  let cmdId: string | undefined;
  let msgRef: string | undefined;
  let cmdRef: string | undefined;
  let cmd: string | undefined;
  let data: string | undefined;
  let targetRefs: string[] | undefined;
  let sourceRefs: string[] | undefined;
  let items: Item[] | undefined;
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    switch (child.local) {
      case 'CmdID':
        cmdId = child.text.trim();
        break;
      case 'MsgRef':
        msgRef = child.text.trim();
        break;
      case 'CmdRef':
        cmdRef = child.text.trim();
        break;
      case 'Cmd':
        cmd = child.text.trim();
        break;
      case 'Data':
        data = child.text.trim();
        break;
      case 'TargetRef':
        (targetRefs ??= []).push(child.text.trim());
        break;
      case 'SourceRef':
        (sourceRefs ??= []).push(child.text.trim());
        break;
      case 'Item':
        (items ??= []).push(readItem(child, ns, 'Status'));
        break;
      default:
        // Cred, Chal: not modelled.
        break;
    }
  }
  const id = commandId(cmdId, 'Status', where);
  const status: Status = {
    kind: 'Status',
    cmdId: id,
    msgRef: required(msgRef, `Status ${id} MsgRef`),
    cmdRef: required(cmdRef, `Status ${id} CmdRef`),
    cmd: required(cmd, `Status ${id} Cmd`),
    data: required(data, `Status ${id} Data (the status code)`),
  };
  if (targetRefs) status.targetRefs = targetRefs;
  if (sourceRefs) status.sourceRefs = sourceRefs;
  if (items) status.items = items;
  return status;
}

/** MsgRef is optional in Results (SyncML DTD): '' when the sender left it out. */
function readResults(element: XmlElement, ns: string, where: string): Results {
  let cmdId: string | undefined;
  let msgRef = '';
  let cmdRef: string | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    switch (child.local) {
      case 'CmdID':
        cmdId = child.text.trim();
        break;
      case 'MsgRef':
        msgRef = child.text.trim();
        break;
      case 'CmdRef':
        cmdRef = child.text.trim();
        break;
      case 'Meta':
        meta = readMeta(child, ns);
        break;
      case 'Item':
        items.push(readItem(child, ns, 'Results'));
        break;
      default:
        // TargetRef, SourceRef: not modelled.
        break;
    }
  }
  const id = commandId(cmdId, 'Results', where);
  const results: Results = { kind: 'Results', cmdId: id, msgRef, cmdRef: required(cmdRef, `Results ${id} CmdRef`), items };
  if (meta) results.meta = meta;
  return results;
}

function readItem(element: XmlElement, ns: string, where: string): Item {
  const item: Item = {};
  for (const child of element.children) {
    if (!inSyncML(child, ns)) continue;
    switch (child.local) {
      case 'Target':
        item.target = locUri(child, ns, `${where} Item`);
        break;
      case 'Source':
        item.source = locUri(child, ns, `${where} Item`);
        break;
      case 'Meta': {
        const meta = readMeta(child, ns);
        if (meta) item.meta = meta;
        break;
      }
      case 'Data':
        if (child.children.length > 0) {
          throw new SyncMLFormatError(
            `${where} Item Data contains the element ${nameOf(child.children[0]!)}: XML data must be sent as escaped text or CDATA`,
          );
        }
        item.data = child.text;
        break;
      case 'MoreData':
        item.moreData = true;
        break;
      default:
        // SourceParent, TargetParent: not modelled.
        break;
    }
  }
  return item;
}

/** Format and Type; undefined when the Meta carries neither (only MaxObjSize, Size, ...). */
function readMeta(element: XmlElement, ns: string): Meta | undefined {
  let meta: Meta | undefined;
  for (const child of element.children) {
    if (!inMetInf(child, ns)) continue;
    if (child.local === 'Format') (meta ??= {}).format = child.text.trim();
    else if (child.local === 'Type') (meta ??= {}).type = child.text.trim();
  }
  return meta;
}
