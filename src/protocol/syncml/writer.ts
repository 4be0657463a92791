import { xmlText } from '../xml/writer.ts';
import { METINF_NAMESPACE, SYNCML_NAMESPACE, type Command, type Item, type Meta, type SyncHdr, type SyncMLMessage } from './types.ts';

/**
 * Writes SyncML DM 1.2 exactly as Windows expects it (windows-itpro-docs "OMA DM protocol support"): no XML
 * declaration, no whitespace between elements, commands in the order given, every value through xmlText.
 *
 * Sizes: a message is `envelopeSize(header, final)` bytes plus the sum of `commandSize` of its commands, exactly,
 * so a session can pack commands under the device's MaxMsgSize. To avoid writing a command twice (once to size it,
 * once to send it), write it with `writeCommand`, size the text with `Buffer.byteLength`, and join the texts with
 * `assembleSyncML`.
 */

const OPEN = `<SyncML xmlns="${SYNCML_NAMESPACE}">`;
const BODY_OPEN = '<SyncBody>';
const FINAL = '<Final/>';
const CLOSE = '</SyncBody></SyncML>';
/** OPEN, BODY_OPEN and CLOSE are ASCII: characters = bytes. */
const ENVELOPE_FIXED_BYTES = OPEN.length + BODY_OPEN.length + CLOSE.length;
const FORMAT_OPEN = `<Format xmlns="${METINF_NAMESPACE}">`;
const TYPE_OPEN = `<Type xmlns="${METINF_NAMESPACE}">`;
const MAX_MSG_SIZE_OPEN = `<Meta><MaxMsgSize xmlns="${METINF_NAMESPACE}">`;

export function writeSyncML(message: SyncMLMessage): string {
  let xml = OPEN + writeHeader(message.header) + BODY_OPEN;
  for (const command of message.body) xml += writeCommand(command);
  return xml + (message.final ? FINAL : '') + CLOSE;
}

/** A message from commands already written with `writeCommand` (in this order). */
export function assembleSyncML(header: SyncHdr, writtenCommands: readonly string[], final: boolean): string {
  return OPEN + writeHeader(header) + BODY_OPEN + writtenCommands.join('') + (final ? FINAL : '') + CLOSE;
}

/** Bytes (UTF-8) of the written command. */
export function commandSize(command: Command): number {
  return Buffer.byteLength(writeCommand(command), 'utf8');
}

/** Bytes (UTF-8) of the message with an empty body: header, SyncBody and, if `final`, `<Final/>`. */
export function envelopeSize(header: SyncHdr, final: boolean): number {
  return ENVELOPE_FIXED_BYTES + Buffer.byteLength(writeHeader(header), 'utf8') + (final ? FINAL.length : 0);
}

export function writeHeader(header: SyncHdr): string {
  const meta = header.maxMsgSize === undefined ? '' : `${MAX_MSG_SIZE_OPEN}${header.maxMsgSize}</MaxMsgSize></Meta>`;
  return (
    `<SyncHdr><VerDTD>${xmlText(header.verDtd)}</VerDTD><VerProto>${xmlText(header.verProto)}</VerProto>` +
    `<SessionID>${xmlText(header.sessionId)}</SessionID><MsgID>${xmlText(header.msgId)}</MsgID>` +
    `<Target><LocURI>${xmlText(header.target)}</LocURI></Target><Source><LocURI>${xmlText(header.source)}</LocURI></Source>` +
    `${meta}</SyncHdr>`
  );
}

export function writeCommand(command: Command): string {
  const cmdId = `<CmdID>${xmlText(command.cmdId)}</CmdID>`;
  switch (command.kind) {
    case 'Alert':
      return `<Alert>${cmdId}<Data>${xmlText(command.data)}</Data>${writeItems(command.items)}</Alert>`;
    case 'Add':
    case 'Replace':
    case 'Delete':
    case 'Exec':
    case 'Get':
      return `<${command.kind}>${cmdId}${writeMeta(command.meta)}${writeItems(command.items)}</${command.kind}>`;
    case 'Atomic':
    case 'Sequence': {
      let xml = `<${command.kind}>${cmdId}`;
      for (const inner of command.commands) xml += writeCommand(inner);
      return `${xml}</${command.kind}>`;
    }
    case 'Status': {
      let xml = `<Status>${cmdId}<MsgRef>${xmlText(command.msgRef)}</MsgRef><CmdRef>${xmlText(command.cmdRef)}</CmdRef><Cmd>${xmlText(command.cmd)}</Cmd>`;
      if (command.targetRefs) for (const ref of command.targetRefs) xml += `<TargetRef>${xmlText(ref)}</TargetRef>`;
      if (command.sourceRefs) for (const ref of command.sourceRefs) xml += `<SourceRef>${xmlText(ref)}</SourceRef>`;
      xml += `<Data>${xmlText(command.data)}</Data>`;
      if (command.items) xml += writeItems(command.items);
      return `${xml}</Status>`;
    }
    case 'Results': {
      // MsgRef is optional in Results: '' means the sender leaves it out.
      const msgRef = command.msgRef === '' ? '' : `<MsgRef>${xmlText(command.msgRef)}</MsgRef>`;
      return `<Results>${cmdId}${msgRef}<CmdRef>${xmlText(command.cmdRef)}</CmdRef>${writeMeta(command.meta)}${writeItems(command.items)}</Results>`;
    }
    default:
      return unknownCommand(command);
  }
}

function unknownCommand(command: never): never {
  throw new TypeError(`unknown SyncML command kind: ${String((command as { kind?: unknown }).kind)}`);
}

function writeItems(items: readonly Item[]): string {
  let xml = '';
  for (const item of items) {
    xml += '<Item>';
    if (item.target !== undefined) xml += `<Target><LocURI>${xmlText(item.target)}</LocURI></Target>`;
    if (item.source !== undefined) xml += `<Source><LocURI>${xmlText(item.source)}</LocURI></Source>`;
    xml += writeMeta(item.meta);
    if (item.data !== undefined) xml += `<Data>${xmlText(item.data)}</Data>`;
    if (item.moreData) xml += '<MoreData/>';
    xml += '</Item>';
  }
  return xml;
}

/** Nothing when the Meta has neither Format nor Type. */
function writeMeta(meta: Meta | undefined): string {
  if (!meta || (meta.format === undefined && meta.type === undefined)) return '';
  const format = meta.format === undefined ? '' : `${FORMAT_OPEN}${xmlText(meta.format)}</Format>`;
  const type = meta.type === undefined ? '' : `${TYPE_OPEN}${xmlText(meta.type)}</Type>`;
  return `<Meta>${format}${type}</Meta>`;
}
