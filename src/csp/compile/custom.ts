import { OpenMamError } from '../../errors.ts';
import { normalizeLocUri } from '../loc-uri.ts';
import { boolValue, cspSetting, floatValue, intValue, type CspSetting } from './setting.ts';

/**
 * The custom (OMA-URI) configuration compiler: Graph `windows10CustomConfiguration.omaSettings[]` in, one CSP node per
 * setting out, in the given order. The input types are the structural subset the compiler reads (csp/ may not import
 * policy/); policy/custom.ts's validated types are assignable to them.
 *
 * | omaSetting type | SyncML Format | value on the wire |
 * |---|---|---|
 * | omaSettingString | chr | the string |
 * | omaSettingInteger | int | decimal |
 * | omaSettingBoolean | bool | `true` / `false` |
 * | omaSettingBase64 | b64 | the base64 text |
 * | omaSettingDateTime | chr | the ISO 8601 text |
 * | omaSettingFloatingPoint | float | shortest round-trip decimal, no exponent |
 * | omaSettingStringXml | chr | the XML document as text (Graph carries it base64-encoded; the SyncML writer escapes it) |
 */
export type CustomCompileOmaSetting =
  | { readonly '@odata.type': '#microsoft.graph.omaSettingString'; readonly omaUri: string; readonly value: string }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingInteger'; readonly omaUri: string; readonly value: number }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingBoolean'; readonly omaUri: string; readonly value: boolean }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingBase64'; readonly omaUri: string; readonly value: string }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingDateTime'; readonly omaUri: string; readonly value: string }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingFloatingPoint'; readonly omaUri: string; readonly value: number }
  | { readonly '@odata.type': '#microsoft.graph.omaSettingStringXml'; readonly omaUri: string; readonly value: string };

export interface CustomCompileConfiguration {
  readonly omaSettings: readonly CustomCompileOmaSetting[];
}

export function compileCustomConfiguration(config: CustomCompileConfiguration): CspSetting[] {
  return config.omaSettings.map((setting, i) => compileOmaSetting(setting, `omaSettings[${i}]`));
}

function compileOmaSetting(setting: CustomCompileOmaSetting, path: string): CspSetting {
  const locUri = normalizeLocUri(setting.omaUri);
  switch (setting['@odata.type']) {
    case '#microsoft.graph.omaSettingString':
    case '#microsoft.graph.omaSettingDateTime':
      return cspSetting(locUri, 'chr', setting.value);
    case '#microsoft.graph.omaSettingInteger':
      if (!Number.isInteger(setting.value)) throw new OpenMamError('malformed_request', `${path}.value: ${setting.value} is not an integer`);
      return cspSetting(locUri, 'int', intValue(setting.value));
    case '#microsoft.graph.omaSettingBoolean':
      return cspSetting(locUri, 'bool', boolValue(setting.value));
    case '#microsoft.graph.omaSettingBase64':
      return cspSetting(locUri, 'b64', setting.value);
    case '#microsoft.graph.omaSettingFloatingPoint':
      if (!Number.isFinite(setting.value)) throw new OpenMamError('malformed_request', `${path}.value: ${setting.value} is not a finite number`);
      return cspSetting(locUri, 'float', floatValue(setting.value));
    case '#microsoft.graph.omaSettingStringXml':
      return cspSetting(locUri, 'chr', Buffer.from(setting.value, 'base64').toString('utf8'));
    default: {
      const unexpected: never = setting;
      throw new OpenMamError('malformed_request', `${path}: unknown OMA setting type ${String((unexpected as { '@odata.type'?: unknown })['@odata.type'])}`);
    }
  }
}
