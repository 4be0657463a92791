import { locUriProblem, normalizeLocUri } from '../csp/loc-uri.ts';
import { parseXml, XmlError } from '../protocol/xml/reader.ts';
import {
  arrayReader,
  childPath,
  discriminator,
  expectPlainObject,
  INT32_MAX,
  INT32_MIN,
  integerReader,
  odataTypeReader,
  readBase64,
  readBoolean,
  readDateTime,
  readObject,
  readString,
  refuse,
  stringReader,
  type PropertySpecs,
  type ValidationMode,
} from './validate.ts';

/**
 * Custom OMA-URI settings, shaped like Graph `windows10CustomConfiguration` (microsoft-graph-docs
 * intune-deviceconfig-windows10customconfiguration.md, intune-deviceconfig-omasetting*.md): a list of typed
 * `omaSettings`, each one CSP node. csp/compile/custom.ts compiles them. The validator checks each `omaUri` with the
 * OMA-DM LocURI rules and each value against its declared type; `omaSettingStringXml` and `omaSettingBase64` carry
 * Graph Binary (base64), and the XML must be well-formed.
 */

export const CUSTOM_CONFIGURATION_TYPE = '#microsoft.graph.windows10CustomConfiguration';

const OMA_TYPES = [
  '#microsoft.graph.omaSettingString',
  '#microsoft.graph.omaSettingInteger',
  '#microsoft.graph.omaSettingBoolean',
  '#microsoft.graph.omaSettingBase64',
  '#microsoft.graph.omaSettingDateTime',
  '#microsoft.graph.omaSettingFloatingPoint',
  '#microsoft.graph.omaSettingStringXml',
] as const;

export type OmaSettingType = (typeof OMA_TYPES)[number];

interface OmaSettingBase {
  displayName: string;
  description?: string | null;
  /** The LocURI, e.g. `./Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock`. */
  omaUri: string;
}

export interface OmaSettingString extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingString';
  value: string;
}

export interface OmaSettingInteger extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingInteger';
  /** Int32. */
  value: number;
}

export interface OmaSettingBoolean extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingBoolean';
  value: boolean;
}

export interface OmaSettingBase64 extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingBase64';
  fileName?: string | null;
  /** Base64 (standard alphabet once validated). */
  value: string;
}

export interface OmaSettingDateTime extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingDateTime';
  /** ISO 8601 date-time with zone. */
  value: string;
}

export interface OmaSettingFloatingPoint extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingFloatingPoint';
  /** Single (float32 range). */
  value: number;
}

export interface OmaSettingStringXml extends OmaSettingBase {
  '@odata.type': '#microsoft.graph.omaSettingStringXml';
  fileName?: string | null;
  /** Base64 of the UTF-8 XML document (Graph Binary); well-formed, no BOM once validated. */
  value: string;
}

export type OmaSetting =
  | OmaSettingString
  | OmaSettingInteger
  | OmaSettingBoolean
  | OmaSettingBase64
  | OmaSettingDateTime
  | OmaSettingFloatingPoint
  | OmaSettingStringXml;

export interface Windows10CustomConfiguration {
  '@odata.type': typeof CUSTOM_CONFIGURATION_TYPE;
  id?: string;
  displayName: string;
  description?: string | null;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  /** deviceConfiguration.version is an Int32. */
  version?: number;
  omaSettings: OmaSetting[];
}

export type Windows10CustomConfigurationPatch = { [K in Exclude<keyof Windows10CustomConfiguration, '@odata.type'>]?: Windows10CustomConfiguration[K] | null } & Pick<
  Windows10CustomConfiguration,
  '@odata.type'
>;

// ---- values

const FLOAT32_MAX = 3.4028234663852886e38;

function readOmaUri(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  const problem = locUriProblem(text);
  if (problem !== undefined) refuse(path, `"${text}" is not a LocURI: it ${problem}`);
  return text;
}

function readInt32(value: unknown, path: string): number {
  return integerReader(INT32_MIN, INT32_MAX)(value, path);
}

/** Graph Single: a finite number within float32 range. */
function readFloat(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) refuse(path, 'must be a finite number');
  if (Math.abs(value) > FLOAT32_MAX) refuse(path, `${value} is outside the float32 range`);
  return value;
}

function readBase64Text(value: unknown, path: string): string {
  return readBase64(value, path).toString('base64');
}

/**
 * Base64 of a UTF-8 XML document that the OpenMAM XML reader accepts: well-formed, one root, no DOCTYPE (Windows
 * CSPs take no DTDs, and the reader refuses them anyway). A UTF-8 byte-order mark is dropped.
 */
function readXmlBase64(value: unknown, path: string): string {
  const bytes = readBase64(value, path, { nonEmpty: true });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return refuse(path, 'is not UTF-8 text (base64 of the XML document)');
  }
  try {
    parseXml(text);
  } catch (error) {
    if (error instanceof XmlError) refuse(path, `is not well-formed XML: ${error.message}`);
    throw error;
  }
  return Buffer.from(text, 'utf8').toString('base64');
}

// ---- settings

const displayName = { read: stringReader({ nonEmpty: true, singleLine: true }), required: true } as const;
const description = { read: stringReader(), nullable: true } as const;
const omaUri = { read: readOmaUri, required: true } as const;
const fileName = { read: stringReader({ singleLine: true }), nullable: true } as const;

const OMA_SPECS: { [T in OmaSettingType]: PropertySpecs<Extract<OmaSetting, { '@odata.type': T }>> } = {
  '#microsoft.graph.omaSettingString': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingString'), required: true },
    displayName,
    description,
    omaUri,
    value: { read: stringReader(), required: true },
  },
  '#microsoft.graph.omaSettingInteger': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingInteger'), required: true },
    displayName,
    description,
    omaUri,
    value: { read: readInt32, required: true },
  },
  '#microsoft.graph.omaSettingBoolean': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingBoolean'), required: true },
    displayName,
    description,
    omaUri,
    value: { read: readBoolean, required: true },
  },
  '#microsoft.graph.omaSettingBase64': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingBase64'), required: true },
    displayName,
    description,
    omaUri,
    fileName,
    value: { read: readBase64Text, required: true },
  },
  '#microsoft.graph.omaSettingDateTime': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingDateTime'), required: true },
    displayName,
    description,
    omaUri,
    value: { read: readDateTime, required: true },
  },
  '#microsoft.graph.omaSettingFloatingPoint': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingFloatingPoint'), required: true },
    displayName,
    description,
    omaUri,
    value: { read: readFloat, required: true },
  },
  '#microsoft.graph.omaSettingStringXml': {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.omaSettingStringXml'), required: true },
    displayName,
    description,
    omaUri,
    fileName,
    value: { read: readXmlBase64, required: true },
  },
};

function readOmaSetting(value: unknown, path: string): OmaSetting {
  const record = expectPlainObject(value, path);
  const type = discriminator(record, path, OMA_TYPES);
  const specs = OMA_SPECS[type] as PropertySpecs<OmaSetting>;
  return readObject<OmaSetting>(record, path, type.slice('#microsoft.graph.'.length), specs, true);
}

/** One node, one value: the same LocURI twice (also `./Device/...` against `./...`) would be a conflict on the device. */
function checkOmaUrisAreUnique(settings: readonly OmaSetting[]): void {
  const seen = new Map<string, number>();
  for (const [i, setting] of settings.entries()) {
    const key = normalizeLocUri(setting.omaUri);
    const first = seen.get(key);
    if (first !== undefined) refuse(childPath(`omaSettings[${i}]`, 'omaUri'), `repeats omaSettings[${first}].omaUri (${key})`);
    seen.set(key, i);
  }
}

function readOmaSettings(value: unknown, path: string): OmaSetting[] {
  const settings = arrayReader(readOmaSetting, { minItems: 1 })(value, path);
  checkOmaUrisAreUnique(settings);
  return settings;
}

export const CONFIGURATION_SPECS: PropertySpecs<Windows10CustomConfiguration> = {
  '@odata.type': { read: odataTypeReader(CUSTOM_CONFIGURATION_TYPE) },
  id: { read: stringReader({ nonEmpty: true, singleLine: true }) },
  displayName,
  description,
  createdDateTime: { read: readDateTime },
  lastModifiedDateTime: { read: readDateTime },
  version: { read: readInt32 },
  omaSettings: { read: readOmaSettings, required: true },
};

/** `create`: a complete configuration (at least one setting); `update`: a PATCH body, any subset. */
export function validateCustomConfiguration(input: unknown, mode: 'create'): Windows10CustomConfiguration;
export function validateCustomConfiguration(input: unknown, mode: ValidationMode): Windows10CustomConfiguration | Windows10CustomConfigurationPatch;
export function validateCustomConfiguration(input: unknown, mode: ValidationMode): Windows10CustomConfiguration | Windows10CustomConfigurationPatch {
  const config = readObject<Windows10CustomConfiguration>(input, '', 'windows10CustomConfiguration', CONFIGURATION_SPECS, mode === 'create');
  return Object.assign({ '@odata.type': CUSTOM_CONFIGURATION_TYPE }, config);
}
