import { APP_CONFIGURATION_SPECS, APP_PROTECTION_SPECS } from './app-protection.ts';
import { PFX_SPECS, SCEP_SPECS, TRUSTED_ROOT_SPECS } from './certificates.ts';
import { CONFIGURATION_SPECS } from './custom.ts';
import { openMamAdditions, storedOnlyProperties } from './validate.ts';
import { MAM_SPECS, MDM_SPECS } from './wip.ts';

/**
 * Which Graph properties of a policy OpenMAM acts on, derived from the validators' specs: a property with a spec is
 * acted on (compiled to CSP nodes or judged at check-in); a Graph property without one is stored and returned as given
 * (validate.ts readObject) but never reaches a device. The presenter shows the latter as not applicable, so an admin
 * who imported, say, WIP's protectionUnderLockConfigRequired does not believe it is enforced.
 */
export type PolicyModelKind =
  | 'windowsInformationProtectionPolicy'
  | 'mdmWindowsInformationProtectionPolicy'
  | 'windows10CustomConfiguration'
  | 'windows81TrustedRootCertificate'
  | 'windowsPfxCertificate'
  | 'windowsScepCertificate'
  | 'windowsManagedAppProtection'
  | 'targetedManagedAppConfiguration';

/** Each kind's Graph type and the specs of what OpenMAM reads (the one place the acted-on properties are declared). */
const MODELS: { readonly [K in PolicyModelKind]: { graphType: string; specs: Readonly<Record<string, unknown>> } } = {
  windowsInformationProtectionPolicy: { graphType: 'windowsInformationProtectionPolicy', specs: MAM_SPECS },
  mdmWindowsInformationProtectionPolicy: { graphType: 'mdmWindowsInformationProtectionPolicy', specs: MDM_SPECS },
  windows10CustomConfiguration: { graphType: 'windows10CustomConfiguration', specs: CONFIGURATION_SPECS },
  windows81TrustedRootCertificate: { graphType: 'windows81TrustedRootCertificate', specs: TRUSTED_ROOT_SPECS },
  windowsPfxCertificate: { graphType: 'windows10ImportedPFXCertificateProfile', specs: PFX_SPECS },
  windowsScepCertificate: { graphType: 'windows81SCEPCertificateProfile', specs: SCEP_SPECS },
  windowsManagedAppProtection: { graphType: 'windowsManagedAppProtection', specs: APP_PROTECTION_SPECS },
  targetedManagedAppConfiguration: { graphType: 'targetedManagedAppConfiguration', specs: APP_CONFIGURATION_SPECS },
};

/** Names whose meaning is the object's own (they describe it, they configure nothing): never "not applicable". */
const DESCRIPTIVE: ReadonlySet<string> = new Set(['displayName', 'description']);

/** The Graph properties of `kind` OpenMAM stores without acting on them. */
export function storedOnly(kind: PolicyModelKind): string[] {
  const model = MODELS[kind];
  return storedOnlyProperties(model.graphType, model.specs).filter((name) => !DESCRIPTIVE.has(name));
}

/** The properties of a stored `body` that are set (not null) and that OpenMAM does not act on, in body order. */
export function notApplicableProperties(kind: PolicyModelKind, body: Readonly<Record<string, unknown>>): string[] {
  const stored = new Set(storedOnly(kind));
  return Object.entries(body)
    .filter(([name, value]) => stored.has(name) && value !== null && value !== undefined)
    .map(([name]) => name);
}

/** OpenMAM's own properties of `kind` (not in the Graph type), such as a PFX profile's inline certificate and password. */
export function additions(kind: PolicyModelKind): string[] {
  const model = MODELS[kind];
  return openMamAdditions(model.graphType, model.specs);
}
