import { xmlAttr } from '../xml/writer.ts';

/**
 * The wap-provisioningdoc of a MAM enrollment (seed 000/001, "MAM enrollment"): one APPLICATION characteristic
 * (APPID w7, the OMA-DM account) and the DMClient poll schedule. No CertificateStore: MAM has no client certificate.
 * Characteristic types and parm names are upper-case where the client requires it; PROVIDER-ID must equal the
 * DMClient/Provider/{ProviderID} name.
 */
export interface MamProvisioning {
  providerId: string;
  /** Shown to the user as the account's name. */
  name: string;
  /** OMA-DM server URL: <public-url>/ManagementServer/MDM.svc. */
  managementUrl: string;
  backoff: { connRetryFreq: number; initialBackoffTimeMs: number; maxBackoffTimeMs: number };
  poll: PollParameters;
  /** DMClient/Provider/{id}/AADResourceID: the audience the device asks Entra tokens for during policy syncs. */
  aadResourceId: string | undefined;
}

/** DMClient/Provider/{ProviderID}/Poll, intervals in minutes. */
export interface PollParameters {
  numberOfFirstRetries: number;
  intervalForFirstSetOfRetries: number;
  numberOfSecondRetries: number;
  intervalForSecondSetOfRetries: number;
  numberOfRemainingScheduledRetries: number;
  intervalForRemainingScheduledRetries: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

function parm(name: string, value: string | number, datatype?: 'integer' | 'boolean' | 'string'): string {
  const type = datatype ? ` datatype="${datatype}"` : '';
  return `<parm name="${xmlAttr(name)}" value="${xmlAttr(String(value))}"${type}/>`;
}

function pollCharacteristic(poll: PollParameters): string {
  return (
    `<characteristic type="Poll">` +
    parm('NumberOfFirstRetries', poll.numberOfFirstRetries, 'integer') +
    parm('IntervalForFirstSetOfRetries', poll.intervalForFirstSetOfRetries, 'integer') +
    parm('NumberOfSecondRetries', poll.numberOfSecondRetries, 'integer') +
    parm('IntervalForSecondSetOfRetries', poll.intervalForSecondSetOfRetries, 'integer') +
    parm('NumberOfRemainingScheduledRetries', poll.numberOfRemainingScheduledRetries, 'integer') +
    parm('IntervalForRemainingScheduledRetries', poll.intervalForRemainingScheduledRetries, 'integer') +
    parm('PollOnLogin', String(poll.pollOnLogin), 'boolean') +
    parm('AllUsersPollOnFirstLogin', String(poll.allUsersPollOnFirstLogin), 'boolean') +
    `</characteristic>`
  );
}

export function writeMamProvisioningDocument(p: MamProvisioning): string {
  const aadResource = p.aadResourceId ? parm('AADResourceID', p.aadResourceId, 'string') : '';
  return (
    `<wap-provisioningdoc version="1.1">` +
    `<characteristic type="APPLICATION">` +
    parm('APPID', 'w7') +
    parm('PROVIDER-ID', p.providerId) +
    parm('NAME', p.name) +
    parm('ADDR', p.managementUrl) +
    parm('DEFAULTENCODING', 'application/vnd.syncml.dm+xml') +
    parm('CONNRETRYFREQ', p.backoff.connRetryFreq) +
    parm('INITIALBACKOFFTIME', p.backoff.initialBackoffTimeMs) +
    parm('MAXBACKOFFTIME', p.backoff.maxBackoffTimeMs) +
    `<parm name="BACKCOMPATRETRYDISABLED"/>` +
    `</characteristic>` +
    `<characteristic type="DMClient"><characteristic type="Provider"><characteristic type="${xmlAttr(p.providerId)}">` +
    aadResource +
    pollCharacteristic(p.poll) +
    `</characteristic></characteristic></characteristic>` +
    `</wap-provisioningdoc>`
  );
}
