import json, re, sys
exec(open('/tmp/fid/parse.py').read())
# Hand-transcribed beta-only properties (names from schemas/type-mappings/beta-*.json; types from the beta reference pages).
# Checked against microsoft-graph-docs-contrib api-reference/beta/resources at 022b186da1bf6d2f88b9513122ebb32b0b70ef0e: every
# type and collection below matches its page, except mobileThreatDefenseConnector's grantMobileThreatDefensePartnerRole and
# launchMobileThreatDefensePartnerOnSetupEnabled, which no page there documents (Boolean kept, unverified). The pages state
# no nullability: the values below are kept as transcribed.
BETA = {
 'managedAppPolicy': {'roleScopeTagIds': ('Collection(Edm.String)', True)},
 'managedAppProtection': {'allowedDataIngestionLocations': ('Collection(graph.managedAppDataIngestionLocation)', False),
   'allowedOutboundClipboardSharingExceptionLength': ('Edm.Int32', False),
   'appActionIfDeviceComplianceRequired': ('graph.managedAppRemediationAction', False),
   'appActionIfMaximumPinRetriesExceeded': ('graph.managedAppRemediationAction', False),
   'appActionIfUnableToAuthenticateUser': ('graph.managedAppRemediationAction', True),
   'blockDataIngestionIntoOrganizationDocuments': ('Edm.Boolean', False),
   'dialerRestrictionLevel': ('graph.managedAppPhoneNumberRedirectLevel', False),
   'gracePeriodToBlockAppsDuringOffClockHours': ('Edm.Duration', True),
   'maximumAllowedDeviceThreatLevel': ('graph.managedAppDeviceThreatLevel', False),
   'maximumRequiredOsVersion': ('Edm.String', True), 'maximumWarningOsVersion': ('Edm.String', True), 'maximumWipeOsVersion': ('Edm.String', True),
   'minimumWipeAppVersion': ('Edm.String', True), 'minimumWipeOsVersion': ('Edm.String', True),
   'mobileThreatDefensePartnerPriority': ('graph.mobileThreatDefensePartnerPriority', True),
   'mobileThreatDefenseRemediationAction': ('graph.managedAppRemediationAction', False),
   'notificationRestriction': ('graph.managedAppNotificationRestriction', False),
   'pinRequiredInsteadOfBiometricTimeout': ('Edm.Duration', True),
   'previousPinBlockCount': ('Edm.Int32', False),
   'protectedMessagingRedirectAppType': ('graph.messagingRedirectAppType', False),
   'purviewContentEvaluationRequired': ('Edm.Boolean', False)},
 'windowsManagedAppProtection': {'allowedInboundDataTransferSources': ('graph.windowsManagedAppDataTransferLevel', False),
   'allowedOutboundClipboardSharingLevel': ('graph.windowsManagedAppClipboardSharingLevel', False),
   'allowedOutboundDataTransferDestinations': ('graph.windowsManagedAppDataTransferLevel', False),
   'appActionIfUnableToAuthenticateUser': ('graph.managedAppRemediationAction', True),
   'deployedAppCount': ('Edm.Int32', False), 'isAssigned': ('Edm.Boolean', False),
   'maximumAllowedDeviceThreatLevel': ('graph.managedAppDeviceThreatLevel', False),
   'maximumRequiredOsVersion': ('Edm.String', True), 'maximumWarningOsVersion': ('Edm.String', True), 'maximumWipeOsVersion': ('Edm.String', True),
   'minimumRequiredAppVersion': ('Edm.String', True), 'minimumRequiredOsVersion': ('Edm.String', True), 'minimumRequiredSdkVersion': ('Edm.String', True),
   'minimumWarningAppVersion': ('Edm.String', True), 'minimumWarningOsVersion': ('Edm.String', True),
   'minimumWipeAppVersion': ('Edm.String', True), 'minimumWipeOsVersion': ('Edm.String', True), 'minimumWipeSdkVersion': ('Edm.String', True),
   'mobileThreatDefenseRemediationAction': ('graph.managedAppRemediationAction', False),
   'periodOfflineBeforeAccessCheck': ('Edm.Duration', False), 'periodOfflineBeforeWipeIsEnforced': ('Edm.Duration', False),
   'printBlocked': ('Edm.Boolean', False)},
 'windowsCertificateProfileBase': {'certificateValidityPeriodScale': ('graph.certificateValidityPeriodScale', False),
   'certificateValidityPeriodValue': ('Edm.Int32', False), 'keyStorageProvider': ('graph.keyStorageProviderOption', False),
   'renewalThresholdPercentage': ('Edm.Int32', False), 'subjectAlternativeNameType': ('graph.subjectAlternativeNameType', False),
   'subjectNameFormat': ('graph.subjectNameFormat', False)},
 'windows81CertificateProfileBase': {'customSubjectAlternativeNames': ('Collection(graph.customSubjectAlternativeName)', True),
   'extendedKeyUsages': ('Collection(graph.extendedKeyUsage)', True)},
 'windows81SCEPCertificateProfile': {'certificateStore': ('graph.certificateStore', False), 'hashAlgorithm': ('graph.hashAlgorithms', False),
   'keySize': ('graph.keySize', False), 'keyUsage': ('graph.keyUsages', False), 'scepServerUrls': ('Collection(Edm.String)', True),
   'subjectAlternativeNameFormatString': ('Edm.String', True), 'subjectNameFormatString': ('Edm.String', True)},
 'windows10ImportedPFXCertificateProfile': {'intendedPurpose': ('graph.intendedPurpose', False)},
 'windows81TrustedRootCertificate': {'certFileName': ('Edm.String', True), 'destinationStore': ('graph.certificateDestinationStore', False), 'trustedRootCertificate': ('Edm.Binary', True)},
 'deviceConfiguration': {'deviceManagementApplicabilityRuleDeviceMode': ('graph.deviceManagementApplicabilityRuleDeviceMode', True),
   'deviceManagementApplicabilityRuleOsEdition': ('graph.deviceManagementApplicabilityRuleOsEdition', True),
   'deviceManagementApplicabilityRuleOsVersion': ('graph.deviceManagementApplicabilityRuleOsVersion', True),
   'roleScopeTagIds': ('Collection(Edm.String)', True), 'supportsScopeTags': ('Edm.Boolean', False)},
 'deviceManagementApplicabilityRuleDeviceMode': {'deviceMode': ('graph.windows10DeviceModeType', False), 'name': ('Edm.String', True), 'ruleType': ('graph.deviceManagementApplicabilityRuleType', False)},
 'deviceManagementApplicabilityRuleOsEdition': {'name': ('Edm.String', True), 'osEditionTypes': ('Collection(graph.windows10EditionType)', True), 'ruleType': ('graph.deviceManagementApplicabilityRuleType', False)},
 'deviceManagementApplicabilityRuleOsVersion': {'maxOSVersion': ('Edm.String', True), 'minOSVersion': ('Edm.String', True), 'name': ('Edm.String', True), 'ruleType': ('graph.deviceManagementApplicabilityRuleType', False)},
 'deviceAndAppManagementAssignmentTarget': {'deviceAndAppManagementAssignmentFilterId': ('Edm.String', True), 'deviceAndAppManagementAssignmentFilterType': ('graph.deviceAndAppManagementAssignmentFilterType', False)},
 'customSubjectAlternativeName': {'name': ('Edm.String', True), 'sanType': ('graph.subjectAlternativeNameType', False)},
 'extendedKeyUsage': {'name': ('Edm.String', True), 'objectIdentifier': ('Edm.String', True)},
 'omaSettingInteger': {'isReadOnly': ('Edm.Boolean', False)},
 'omaSetting': {'isEncrypted': ('Edm.Boolean', False), 'secretReferenceValueId': ('Edm.String', True)},
 'targetedManagedAppConfiguration': {'appGroupType': ('graph.targetedManagedAppGroupType', False), 'targetedAppManagementLevels': ('graph.appManagementLevel', False)},
 'mobileThreatDefenseConnector': {k: ('Edm.Boolean', False) for k in ['allowPartnerToCollectIosCertificateMetadata','allowPartnerToCollectIosPersonalCertificateMetadata','grantMobileThreatDefensePartnerRole','launchMobileThreatDefensePartnerOnSetupEnabled','macDeviceBlockedOnMissingPartnerData','macEnabled','windowsMobileApplicationManagementEnabled']},
 'targetedManagedAppPolicyAssignment': {'source': ('graph.deviceAndAppManagementAssignmentSource', False), 'sourceId': ('Edm.String', True)},
 'deviceConfigurationAssignment': {'intent': ('graph.deviceConfigAssignmentIntent', False), 'source': ('graph.deviceAndAppManagementAssignmentSource', False), 'sourceId': ('Edm.String', True)},
}
BETA_TYPES = {'windowsManagedAppProtection': ('managedAppPolicy', False), 'windowsCertificateProfileBase': ('deviceConfiguration', True),
  'windows81CertificateProfileBase': ('windowsCertificateProfileBase', True), 'windows81SCEPCertificateProfile': ('windows81CertificateProfileBase', False),
  'windows10ImportedPFXCertificateProfile': ('windowsCertificateProfileBase', False), 'windows81TrustedRootCertificate': ('deviceConfiguration', False),
  'deviceManagementApplicabilityRuleDeviceMode': (None, False), 'customSubjectAlternativeName': (None, False), 'extendedKeyUsage': (None, False), 'deviceManagementApplicabilityRuleOsEdition': (None, False), 'deviceManagementApplicabilityRuleOsVersion': (None, False)}
BETA_FLAGS = {'subjectAlternativeNameType', 'hashAlgorithms', 'keyUsages', 'appManagementLevel'}
# Beta enums whose members beta-enum-types.json (f54f11b6) lacks, as the beta reference pages list them (member, value order).
BETA_ENUM_MEMBERS = {'windowsManagedAppClipboardSharingLevel': ['anyDestinationAnySource', 'none', 'orgDestinationAnySource', 'orgDestinationOrgSource', 'unknownFutureValue']}
# Navigation properties that a body may carry and OpenMAM stores (contained collections Graph documents in the WIP JSON).
STORED_NAV = {('windowsInformationProtection', 'protectedAppLockerFiles'), ('windowsInformationProtection', 'exemptAppLockerFiles')}
READ_ONLY = {'id', 'createdDateTime', 'lastModifiedDateTime', 'modifiedDateTime', 'isAssigned', 'deployedAppCount', 'supportsScopeTags',
  'lastHeartbeatDateTime', 'templateId', 'deletedDateTime', 'secretReferenceValueId'}
READ_ONLY_BY_TYPE = {('managedAppPolicy', 'version'), ('deviceConfiguration', 'version')}
MISSING=[]
beta_nav = {}
for t,d in list(be.items()):
  beta_nav[t]=d['navigationProperties']
types = {}
def strip(t): return t.replace('graph.','')
def ensure(name):
  if name in types: return
  if name in v1:
    d=v1[name]; types[name]={'base': d['base'] and strip(d['base']), 'abstract': d['abstract']=='true', 'props': {}, 'betaOnlyType': False}
    for p,(ty,n) in d['props'].items(): types[name]['props'][p]={'type':ty,'nullable': n!='false','beta':False}
    for p,(ty,c) in d['nav'].items(): types[name]['props'][p]={'type':ty,'nullable':True,'beta':False,'nav':True}
  elif name in BETA_TYPES:
    b,a=BETA_TYPES[name]; types[name]={'base':b,'abstract':a,'props':{},'betaOnlyType':True}
  else: raise SystemExit('unknown type '+name)
  for p,(ty,n) in BETA.get(name,{}).items():
    if p not in types[name]['props']: types[name]['props'][p]={'type':ty,'nullable':n,'beta':True}
  blist = (be.get(name) or bc.get(name) or {})
  for p in blist.get('properties',[]):
    # every beta property must be known with a type
    known = any(p in types[x]['props'] for x in [name])
    if not known and p not in types[name]['props']:
      # inherited listing? type-mappings list own properties only
      MISSING.append(f'{name}.{p}')
  for p in blist.get('navigationProperties',[]):
    if p not in types[name]['props']: types[name]['props'][p]={'type':'graph.entity','nullable':True,'beta':True,'nav':True}
enums = {}
def walk(name, seen):
  if name in seen: return
  seen.add(name); ensure(name)
  t=types[name]
  if t['base']: walk(t['base'], seen)
  for p,d in t['props'].items():
    if d.get('nav') and (name,p) not in STORED_NAV: continue
    inner=re.sub(r'^Collection\((.*)\)$',r'\1',d['type'])
    if inner.startswith('Edm.'): continue
    n=strip(inner)
    if n in v1enum or n in ben:
      enums.setdefault(n, None)
    else: walk(n, seen)
  # derived complex types of a complex (polymorphic) type are reachable too
  for cand,cd in v1.items():
    if cd['base']==('graph.'+name) and name in POLY: walk(cand, seen)
POLY = {'omaSetting','windowsInformationProtectionApp','ipRange','deviceAndAppManagementAssignmentTarget','configurationManagerCollectionAssignmentTarget'}
FAMILIES = [
 ('common', 'Bases shared by the families: entity, managedAppPolicy, deviceConfiguration.', ['entity','managedAppPolicy','deviceConfiguration']),
 ('assignments', 'Assignments and their targets.', ['targetedManagedAppPolicyAssignment','deviceConfigurationAssignment','deviceAndAppManagementAssignmentTarget']),
 ('wip', 'Windows Information Protection (MAM and MDM).', ['windowsInformationProtectionPolicy','mdmWindowsInformationProtectionPolicy']),
 ('device-configuration', 'Device configurations: custom OMA settings and certificate profiles.', ['windows10CustomConfiguration','windows81TrustedRootCertificate','windows10ImportedPFXCertificateProfile','windows81SCEPCertificateProfile']),
 ('app-protection', 'App protection, app configuration and threat defense connectors.', ['windowsManagedAppProtection','targetedManagedAppConfiguration','mobileThreatDefenseConnector']),
 ('conditional-access', 'Entra conditional access policies.', ['conditionalAccessPolicy']),
 ('directory', 'Directory objects OpenMAM serves: groups and service principals.', ['group','servicePrincipal']),
]
owner = {}; eowner = {}
out = {}
for fam,desc,roots in FAMILIES:
  seen=set()
  before=set(enums)
  for r in roots: walk(r, seen)
  for s in sorted(seen):
    owner.setdefault(s, fam)
  for e in enums:
    eowner.setdefault(e, fam)
def enum_members(n):
  m = list(v1enum[n][0]) if n in v1enum else []
  for x in ben.get(n, []):
    if x not in m: m.append(x)
  if n in BETA_ENUM_MEMBERS: m = list(BETA_ENUM_MEMBERS[n])
  flags = (n in v1enum and v1enum[n][1]=='true') or n in BETA_FLAGS
  return m, flags
def ts_prop(tname, p, d):
  ty=d['type']; coll=ty.startswith('Collection(')
  inner=strip(re.sub(r'^Collection\((.*)\)$',r'\1',ty))
  parts=[f"type: '{inner}'"]
  if coll: parts.append('collection: true')
  parts.append(f"nullable: {'true' if d['nullable'] else 'false'}")
  if d['beta'] or types[tname]['betaOnlyType']: parts.append('betaOnly: true')
  if d.get('nav') and (tname,p) not in STORED_NAV: parts.append('navigation: true')
  if p in READ_ONLY or (tname,p) in READ_ONLY_BY_TYPE: parts.append('readOnly: true')
  key = p if re.match(r'^[A-Za-z_$][\w$]*$', p) else json.dumps(p)
  return f"    {key}: {{ {', '.join(parts)} }},"
for fam,desc,roots in FAMILIES:
  lines=[]
  lines.append('// Generated from Microsoft Graph metadata (github.com/microsoftgraph/msgraph-metadata): schemas/v1.0-Prod.csdl at')
  lines.append('// commit 0564689b82afc308d5aa8be54edfb9e5f1e0539f (types, nullability, enum members and order), and')
  lines.append('// schemas/type-mappings/beta-{entity,complex,enum}-types.json at commit f54f11b60956ea7b185ca0447b2b80805836ec7b (the beta')
  lines.append('// property names and enum members; beta-Prod.csdl is too large to mirror). Properties and types marked betaOnly exist')
  lines.append('// in beta only; their EDM types are transcribed from the beta reference pages (learn.microsoft.com/graph/api/resources/')
  lines.append('// intune-*?view=graph-rest-beta), and were checked (type, collection, enum members) against github.com/microsoftgraph/')
  lines.append('// microsoft-graph-docs-contrib (formerly microsoft-graph-docs) api-reference/beta/resources at commit')
  lines.append('// 022b186da1bf6d2f88b9513122ebb32b0b70ef0e (the pages' ms.date 08/01/2024); nullability the pages do not state is kept,')
  lines.append('// and what no page documents is listed in scripts/graph-schema.py. readOnly marks what Graph computes (ignored on')
  lines.append('// input). Edit by regenerating.')
  lines.append(f'// {desc}')
  lines.append("import type { GraphSchemaPart } from './model.ts';")
  lines.append('')
  const = fam.upper().replace('-','_') + '_SCHEMA'
  lines.append(f'export const {const}: GraphSchemaPart = {{')
  lines.append('  types: {')
  for t in sorted(k for k,v in owner.items() if v==fam):
    d=types[t]
    head=[]
    if d['base']: head.append(f"base: '{d['base']}'")
    if d['abstract']: head.append('abstract: true')
    if d['betaOnlyType']: head.append('betaOnly: true')
    lines.append(f"    {t}: {{{' ' + ', '.join(head) + ',' if head else ''} properties: {{")
    for p in sorted(d['props']):
      lines.append('  '+ts_prop(t,p,d['props'][p]))
    lines.append('    } },')
  lines.append('  },')
  lines.append('  enums: {')
  for e in sorted(k for k,v in eowner.items() if v==fam):
    m,f=enum_members(e)
    lines.append(f"    {e}: {{ members: {json.dumps(m)}{', flags: true' if f else ''} }},".replace('","','", "'))
  lines.append('  },')
  lines.append('};')
  open(f'/work/wt-fidelity/src/policy/graph-schema/{fam}.ts','w').write('\n'.join(lines)+'\n')
print(len(types), len(enums))
edm=set()
for t in types.values():
  for d in t['props'].values():
    i=re.sub(r'^Collection\((.*)\)$',r'\1',d['type'])
    if i.startswith('Edm.'): edm.add(i)
print(edm)
print("MISSING", MISSING)
