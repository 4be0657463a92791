import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cspOf, isUserScoped, locUriProblem, normalizeLocUri } from '../../src/csp/loc-uri.ts';
import { mamRefusal } from '../../src/csp/mam-allow-list.ts';

describe('LocURI rules', () => {
  it('normalises ./Device/Vendor/MSFT/X to ./Vendor/MSFT/X and leaves ./User paths alone', () => {
    assert.equal(normalizeLocUri('./Device/Vendor/MSFT/DMClient/Provider/OpenMAM'), './Vendor/MSFT/DMClient/Provider/OpenMAM');
    assert.equal(normalizeLocUri(' ./Vendor/MSFT/DMClient '), './Vendor/MSFT/DMClient');
    assert.equal(normalizeLocUri('./User/Vendor/MSFT/PassportForWork'), './User/Vendor/MSFT/PassportForWork');
    assert.equal(isUserScoped('./User/Vendor/MSFT/PassportForWork'), true);
    assert.equal(isUserScoped('./Vendor/MSFT/PassportForWork'), false);
  });

  it('refuses URIs Windows refuses', () => {
    assert.equal(locUriProblem('./Vendor/MSFT/DMClient'), undefined);
    for (const bad of ['', '/Vendor/MSFT/X', 'Vendor/MSFT/X', './Vendor//X', './Vendor/*/X', './Vendor/../X', './Vendor/./X']) {
      assert.notEqual(locUriProblem(bad), undefined, bad);
    }
  });

  it('names the CSP of a node', () => {
    assert.deepEqual(cspOf('./Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength'), { csp: 'Policy', rest: ['Config', 'DeviceLock', 'MinDevicePasswordLength'] });
    assert.equal(cspOf('./User/Vendor/MSFT/PassportForWork/t/Policies').csp, 'PassportForWork');
    assert.equal(cspOf('./DevInfo/Man').csp, 'DevInfo');
  });
});

describe('MAM allow-list (seed 000 "Supported CSPs")', () => {
  const allowed = [
    './Vendor/MSFT/AppLocker/EnterpriseDataProtection/Grouping/EXE/Policy',
    './Vendor/MSFT/ClientCertificateInstall/PFXCertInstall/x/KeyLocation',
    './Vendor/MSFT/DeviceStatus/OS/Edition',
    './DevInfo/Man',
    './Vendor/MSFT/DMAcc/OpenMAM/AppAddr',
    './Vendor/MSFT/DMClient/Provider/OpenMAM/Poll/NumberOfFirstRetries',
    './Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel',
    './Vendor/MSFT/HealthAttestation/VerifyHealth',
    './User/Vendor/MSFT/PassportForWork/t/Policies/UsePassportForWork',
    './Vendor/MSFT/Policy/Config/NetworkIsolation/EnterpriseIPRange',
    './Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength',
    './Vendor/MSFT/Reporting/EnterpriseDataProtection/RetrieveByCount/Logs',
    './Vendor/MSFT/RootCATrustedCertificates/Root/abc/EncodedCertificate',
    './Vendor/MSFT/VPNv2/Contoso/ProfileXML',
    './Vendor/MSFT/WiFi/Profile/Contoso/WlanXml',
  ];
  const refused = [
    './Vendor/MSFT/Policy/Config/Camera/AllowCamera',
    './Vendor/MSFT/Policy/Config/Update/AllowAutoUpdate',
    './Vendor/MSFT/BitLocker/RequireDeviceEncryption',
    './Vendor/MSFT/Reboot/RebootNow',
    './Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation',
    './DevDetail/SwV',
  ];

  it('lets the listed CSPs through, Policy only for NetworkIsolation and DeviceLock', () => {
    for (const locUri of allowed) assert.equal(mamRefusal(locUri), undefined, locUri);
  });

  it('refuses everything else, with a reason', () => {
    for (const locUri of refused) assert.match(mamRefusal(locUri) ?? '', /not available to MAM/, locUri);
  });
});
