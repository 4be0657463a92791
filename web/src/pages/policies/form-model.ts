/**
 * How a policy kind's settings become a form and back: each field names the Graph property it edits, how it is shown,
 * and how a form value becomes the body the admin API takes. The server validates every value (the form does not
 * repeat its rules); a refusal names the property, and the form shows it at the field.
 */
export type Row = Record<string, string>;
export type FormValue = string | boolean | string[] | Row[];

export interface Option {
  value: string;
  label: string;
}

export interface RowColumn {
  name: string;
  label: string;
  options?: readonly Option[];
  placeholder?: string;
}

export type FieldKind =
  | { type: 'text'; multiline?: boolean; secret?: boolean; nullable?: boolean; placeholder?: string }
  | { type: 'integer'; nullable?: boolean }
  | { type: 'boolean' }
  | { type: 'choice'; options: readonly Option[]; nullable?: boolean }
  | { type: 'lines'; placeholder?: string }
  | { type: 'flags'; options: readonly Option[] }
  | { type: 'rows'; columns: readonly RowColumn[]; empty: Row; itemLabel: string; presets?: readonly { label: string; row: Row }[] }
  | { type: 'file'; accept: string; nameField?: string };

export interface FieldSpec {
  /** The Graph property. */
  name: string;
  label: string;
  hint?: string;
  required?: boolean;
  /** The group of fields it is shown in (an h3). */
  section: string;
  kind: FieldKind;
  /** Body value to form value, when the type's default reading does not fit. */
  read?: (value: unknown) => FormValue;
  /** Form value to body value; `undefined` leaves the property out (the server's default, or unchanged). */
  write?: (value: FormValue) => unknown;
}

export function readField(field: FieldSpec, value: unknown): FormValue {
  if (field.read) return field.read(value);
  const kind = field.kind;
  switch (kind.type) {
    case 'boolean':
      return value === true;
    case 'lines':
      return Array.isArray(value) ? value.map(String).join('\n') : '';
    case 'flags':
      return typeof value === 'string' && value !== '' ? value.split(',').map((flag) => flag.trim()) : [];
    case 'rows':
      return Array.isArray(value) ? value.map((item) => rowOf(item, kind.columns)) : [];
    default:
      return value === null || value === undefined ? '' : String(value);
  }
}

function rowOf(item: unknown, columns: readonly RowColumn[]): Row {
  const record = (item ?? {}) as Record<string, unknown>;
  return Object.fromEntries(columns.map((column) => [column.name, record[column.name] === null || record[column.name] === undefined ? '' : String(record[column.name])]));
}

/** A whole number as a number; anything else as typed, for the server to refuse at the field. */
export function numberOrText(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : text;
}

export function writeField(field: FieldSpec, value: FormValue): unknown {
  if (field.write) return field.write(value);
  const kind = field.kind;
  switch (kind.type) {
    case 'boolean':
      return value === true;
    case 'lines':
      return String(value).split('\n').map((line) => line.trim()).filter((line) => line !== '');
    case 'flags':
      return (value as string[]).join(',');
    case 'rows':
      return (value as Row[]).map((row) => Object.fromEntries(Object.entries(row).filter(([, cell]) => cell !== '')));
    case 'integer': {
      const text = String(value).trim();
      if (text === '') return kind.nullable ? null : undefined;
      return numberOrText(text);
    }
    case 'choice':
      return value === '' ? (kind.nullable ? null : undefined) : value;
    case 'text':
      if (value !== '') return value;
      if (kind.secret) return undefined;
      return kind.nullable ? null : '';
    case 'file':
      return value === '' ? undefined : value;
  }
}

/** The form's values for a body (a template, a stored policy, or nothing). */
export function formValues(fields: readonly FieldSpec[], body: Readonly<Record<string, unknown>>): Record<string, FormValue> {
  return Object.fromEntries(fields.map((field) => [field.name, readField(field, body[field.name])]));
}

/**
 * The body to send: on create every field the form has (left-out ones take the server's defaults); on edit only the
 * fields the admin changed, so a PATCH never rewrites what the form cannot show in full.
 */
export function bodyOf(fields: readonly FieldSpec[], values: Readonly<Record<string, FormValue>>, initial?: Readonly<Record<string, FormValue>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined) continue;
    if (initial && JSON.stringify(initial[field.name]) === JSON.stringify(value)) continue;
    const written = writeField(field, value);
    if (written !== undefined) body[field.name] = written;
  }
  return body;
}

/** Properties a GET answers that a body sent back must not carry (annotations, navigations, read-only ones). */
const NOT_SENT = new Set(['@odata.context', '@odata.etag', 'id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'deployedAppCount', 'roleScopeTagIds', 'assignments', 'apps']);

export function editableBody(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([name]) => !NOT_SENT.has(name) && !name.startsWith('@openmam.')));
}

/** UTF-8 text as base64 (an XML OMA setting's value) and back. */
export function toBase64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(base64: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  } catch {
    return base64;
  }
}

/** A file's bytes as base64; a PEM file's body without its armour (the API takes DER as base64). */
export async function fileAsBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64));
  if (text.startsWith('-----BEGIN')) {
    const pem = new TextDecoder().decode(bytes);
    const match = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
    return (match?.[1] ?? '').replace(/\s+/g, '');
  }
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
