import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpsTransport } from './https.ts';
import { el, parseSimXml, textAt, type RawXml, type SimElement } from './sim-xml.ts';

/**
 * Device health attestation as the simulator plays it: a simulated Device Health Attestation (DHA) service, and the
 * HealthAttestation CSP of a simulated device (learn.microsoft.com/windows/client-management/mdm/healthattestation-csp;
 * [MS-DHA], learn.microsoft.com/openspecs/windows_protocols/ms-dha).
 *
 * The real protocol's secrets are a TPM's: the device's claims are signed with its Attestation Identity Key (AIK) and
 * the health certificate is encrypted for the DHA service. Here the service hands the device, with its health
 * certificate, a per-certificate key standing in for the AIK (kept in memory on both sides); the device "signs" its
 * claims (the nonce the MDM set) with it, and the service checks that signature and the nonce the MDM sends. Nothing
 * more is signed than the real protocol signs: the report goes back over TLS, unsigned, as DHA-Report does.
 */

export const DHA_GET_PATH = '/DeviceHealthAttestation/GetHealthCertificate/v3';
export const DHA_VALIDATE_PATH = '/DeviceHealthAttestation/ValidateHealthCertificate/v3';
const RESPONSE_NS = 'http://schemas.microsoft.com/windows/security/healthcertificate/validation/response/v3';
const VALIDATION_REQUEST_NS = 'http://schemas.microsoft.com/windows/security/healthcertificate/validation/request/v3';
const HEALTH_ATTESTATION = './Vendor/MSFT/HealthAttestation';
const METINF = { xmlns: 'syncml:metinf' };

/** The boot state a device attests (DHA-Report V3 fields). All "healthy" by default. */
export interface BootState {
  secureBootEnabled: boolean;
  bitLockerEnabled: boolean;
  codeIntegrityEnabled: boolean;
  elamDriverLoaded: boolean;
  bootDebuggingEnabled: boolean;
  osKernelDebuggingEnabled: boolean;
  testSigningEnabled: boolean;
}

export const HEALTHY_BOOT: BootState = {
  secureBootEnabled: true,
  bitLockerEnabled: true,
  codeIntegrityEnabled: true,
  elamDriverLoaded: true,
  bootDebuggingEnabled: false,
  osKernelDebuggingEnabled: false,
  testSigningEnabled: false,
};

interface Issued {
  aikKey: Buffer;
  boot: BootState;
  issuedAt: string;
}

export interface SimulatedDhaServiceOptions {
  /** TLS key and certificate (PEM) of the service. */
  key: string;
  cert: string;
}

/**
 * A DHA service on 127.0.0.1 over HTTPS: `GetHealthCertificate/v3` (device: boot state in, health certificate and
 * its AIK stand-in out) and `ValidateHealthCertificate/v3` (MDM: nonce, claims and certificate in,
 * HealthCertificateValidationResponse out). `available = false` answers 503 to validations (an outage);
 * `override` replaces the validation answer (hostile or malformed services in tests).
 */
export class SimulatedDhaService {
  /**
   * Every certificate issued, kept for this service's life: a test double started by one test (`openmam simulate`
   * does not run it), so it holds what that test issues. Not for a long-running service.
   */
  readonly #issued = new Map<string, Issued>();
  readonly #server: Server;
  /** False: validations are answered 503 Service Unavailable. */
  available = true;
  /** Replaces the validation answer when set. */
  override: ((request: string) => { status: number; body: string }) | undefined;
  /** Validation requests received (tests check what the MDM sent). */
  readonly validations: string[] = [];

  private constructor(options: SimulatedDhaServiceOptions) {
    this.#server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = this.#answer(req.method ?? 'GET', (req.url ?? '').split('?')[0]!, body);
        res.writeHead(answer.status, { 'content-type': 'application/xml; charset=utf-8' });
        res.end(answer.body);
      });
    });
  }

  static async start(options: SimulatedDhaServiceOptions): Promise<SimulatedDhaService> {
    const service = new SimulatedDhaService(options);
    await new Promise<void>((resolve) => service.#server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  /** https://127.0.0.1:PORT */
  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #answer(method: string, path: string, body: string): { status: number; body: string } {
    if (method !== 'POST') return { status: 405, body: '' };
    if (path.toLowerCase() === DHA_GET_PATH.toLowerCase()) return this.#issue(body);
    if (path.toLowerCase() === DHA_VALIDATE_PATH.toLowerCase()) {
      this.validations.push(body);
      if (this.override) return this.override(body);
      if (!this.available) return { status: 503, body: '' };
      return { status: 200, body: this.#validate(body) };
    }
    return { status: 404, body: '' };
  }

  /** A HealthCertificateRequest whose Claims carry the boot state (JSON, base64): certificate + AIK stand-in. */
  #issue(body: string): { status: number; body: string } {
    let boot: BootState;
    try {
      const claims = textAt(parseSimXml(body), 'Claims') ?? '';
      boot = { ...HEALTHY_BOOT, ...(JSON.parse(Buffer.from(claims, 'base64').toString('utf8')) as Partial<BootState>) };
    } catch {
      return { status: 400, body: '' };
    }
    const certificate = randomBytes(48).toString('base64');
    const aikKey = randomBytes(32);
    this.#issued.set(certificate, { aikKey, boot, issuedAt: new Date().toISOString() });
    return { status: 200, body: el('HealthCertificateResponse', { ProtocolVersion: '3' }, el('HealthCertificateBlob', undefined, certificate), el('AIKKey', undefined, aikKey.toString('base64'))).raw };
  }

  #validate(body: string): string {
    const refuse = (code: number, message: string): string => el('HealthCertificateValidationResponse', { xmlns: RESPONSE_NS, ErrorCode: String(code), ErrorMessage: message, ProtocolVersion: '3' }).raw;
    let root: SimElement;
    try {
      root = parseSimXml(body);
    } catch {
      return refuse(400, 'malformed request');
    }
    const nonce = textAt(root, 'Nonce')?.trim() ?? '';
    const claims = textAt(root, 'Claims')?.trim() ?? '';
    const certificate = textAt(root, 'HealthCertificateBlob')?.trim() ?? '';
    const issued = this.#issued.get(certificate);
    if (!issued) return refuse(1, 'the health certificate could not be decrypted');
    let signed: { nonce?: string; signature?: string };
    try {
      signed = JSON.parse(Buffer.from(claims, 'base64').toString('utf8')) as { nonce?: string; signature?: string };
    } catch {
      return refuse(2, 'the claims are not readable');
    }
    const expected = createHmac('sha256', issued.aikKey).update(signed.nonce ?? '').digest();
    const given = Buffer.from(signed.signature ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(3, 'the claims are not signed by the attested key');
    if ((signed.nonce ?? '').toUpperCase() !== nonce.toUpperCase()) return refuse(4, 'the nonce does not match the claims');
    const b = issued.boot;
    const flag = (value: boolean): string => (value ? 'true' : 'false');
    return el(
      'HealthCertificateValidationResponse',
      { xmlns: RESPONSE_NS, ErrorCode: '0', ErrorMessage: 'DHA validation report was generated successfully.', ProtocolVersion: '3' },
      el(
        'HealthCertificateProperties',
        undefined,
        el('Issued', undefined, issued.issuedAt),
        el('AIKPresent', undefined, 'true'),
        el('ResetCount', undefined, '2'),
        el('RestartCount', undefined, '17'),
        el('DEPPolicy', undefined, '1'),
        el('BitlockerStatus', undefined, b.bitLockerEnabled ? '1' : '0'),
        el('BootManagerRevListVersion', undefined, '0'),
        el('CodeIntegrityRevListVersion', undefined, '0'),
        el('SecureBootEnabled', undefined, flag(b.secureBootEnabled)),
        el('BootDebuggingEnabled', undefined, flag(b.bootDebuggingEnabled)),
        el('OSKernelDebuggingEnabled', undefined, flag(b.osKernelDebuggingEnabled)),
        el('CodeIntegrityEnabled', undefined, flag(b.codeIntegrityEnabled)),
        el('TestSigningEnabled', undefined, flag(b.testSigningEnabled)),
        el('SafeMode', undefined, 'false'),
        el('WinPE', undefined, 'false'),
        el('ELAMDriverLoaded', undefined, flag(b.elamDriverLoaded)),
        el('VSMEnabled', undefined, 'false'),
        el('PCRHashAlgorithmID', undefined, '0'),
        el('BootAppSVN', undefined, '1'),
        el('BootManagerSVN', undefined, '1'),
        el('TpmVersion', undefined, '2'),
        el('PCR0', undefined, '4ACCBE0ADB9627FFD6285C2E06EC5AC59ABF62C7'),
      ),
    ).raw;
  }
}

/** How a simulated device misbehaves in attestation (tests of the server's refusals). */
export type AttestationMischief = 'none' | 'forge' | 'replay';

export interface SimulatedHealthAttestationOptions {
  /** The DHA service used when the MDM set no HASEndpoint (a real device would use has.spserv.microsoft.com). */
  defaultEndpoint: string;
  /** The service's CA (PEM) when it is not publicly trusted. */
  ca?: string;
  boot?: Partial<BootState>;
  /**
   * `forge`: a health certificate the service never issued; `replay`: DHA-Data presented before (`replayWith`, else
   * this device's first), whatever the nonce.
   */
  mischief?: AttestationMischief;
}

/**
 * The HealthAttestation CSP of a simulated device: Replace Nonce and HASEndpoint, Exec VerifyHealth (the health
 * certificate is fetched from the DHA service before the next session, which raises Alert 1226
 * `com.microsoft.mdm:HealthAttestation.Result`), Get Status, Certificate (DHA-Data: base64 XML with Claims and
 * HealthCertificateBlob) and CorrelationID.
 */
export class SimulatedHealthAttestation {
  readonly #transport: HttpsTransport;
  boot: BootState;
  mischief: AttestationMischief;
  #nonce = '';
  #endpoint: string | undefined;
  #status = '0';
  #correlationId = String(randomInt(1, 2 ** 31 - 1));
  #pendingVerify = false;
  #certificate: { blob: string; aikKey: Buffer } | undefined;
  #firstData: string | undefined;
  #lastData: string | undefined;
  /** Alert data to raise in the next session. */
  #alert: string | undefined;

  constructor(private readonly options: SimulatedHealthAttestationOptions) {
    this.#transport = new HttpsTransport(options.ca, 10_000);
    this.boot = { ...HEALTHY_BOOT, ...options.boot };
    this.mischief = options.mischief ?? 'none';
  }

  close(): void {
    this.#transport.close();
  }

  /** DHA-Data to present instead of fresh data while `mischief` is `replay` (another device's, say). */
  replayWith: string | undefined;

  /** The DHA-Data this device presented last (tests). */
  get lastData(): string | undefined {
    return this.#lastData;
  }

  /** The nonce the MDM set last (tests). */
  get nonce(): string {
    return this.#nonce;
  }

  /**
   * Before a session: a VerifyHealth asked for is carried out (the health certificate fetched from the DHA service),
   * and its result becomes the Result alert of this session.
   */
  async prepare(): Promise<RawXml | undefined> {
    if (this.#pendingVerify) {
      this.#pendingVerify = false;
      const endpoint = this.#endpoint === undefined ? this.options.defaultEndpoint.replace(/\/+$/, '') : `https://${this.#endpoint}`;
      try {
        const claims = Buffer.from(JSON.stringify(this.boot), 'utf8').toString('base64');
        const answer = await this.#transport.send(`${endpoint}${DHA_GET_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: el('HealthCertificateRequest', { ProtocolVersion: '3' }, el('Claims', undefined, claims)).raw,
        });
        const root = answer.status === 200 ? parseSimXml(answer.body) : undefined;
        const blob = textAt(root, 'HealthCertificateBlob');
        const key = textAt(root, 'AIKKey');
        if (blob && key) {
          this.#certificate = { blob, aikKey: Buffer.from(key, 'base64') };
          this.#status = '3';
        } else {
          this.#status = '26'; // HEALTHATTESTATION_CERT_RETRIEVAL_FAILED_GETTARGET_HTTPHANDLE-like: no certificate
        }
      } catch {
        this.#status = '26';
      }
      this.#alert = this.#status;
    }
    const alert = this.#alert;
    this.#alert = undefined;
    if (alert === undefined) return undefined;
    return el(
      'Item',
      undefined,
      el('Source', undefined, el('LocURI', undefined, `${HEALTH_ATTESTATION}/VerifyHealth`)),
      el('Meta', undefined, el('Type', METINF, 'com.microsoft.mdm:HealthAttestation.Result'), el('Format', METINF, 'int')),
      el('Data', undefined, alert),
    );
  }

  /** A server command on a HealthAttestation node; undefined for any other node. */
  execute(verb: string, locUri: string, data: string | undefined): { code: string; value?: { format: string; value: string } } | undefined {
    const normalized = locUri.trim().replace(/^\.\/Device\//, './');
    if (!normalized.startsWith(`${HEALTH_ATTESTATION}/`)) return undefined;
    const node = normalized.slice(HEALTH_ATTESTATION.length + 1);
    switch (`${verb} ${node}`) {
      case 'Replace Nonce': {
        const nonce = (data ?? '').trim();
        if (!/^(?:[0-9A-Fa-f]{2}){8,32}$/.test(nonce)) return { code: '400' };
        this.#nonce = nonce;
        return { code: '200' };
      }
      case 'Replace HASEndpoint':
        this.#endpoint = (data ?? '').trim() || undefined;
        return { code: '200' };
      case 'Exec VerifyHealth':
        this.#pendingVerify = true;
        this.#status = '1';
        return { code: '200' };
      case 'Get Status':
        return { code: '200', value: { format: 'int', value: this.#status } };
      case 'Get Nonce':
        return { code: '200', value: { format: 'chr', value: this.#nonce } };
      case 'Get HASEndpoint':
        return { code: '200', value: { format: 'chr', value: this.#endpoint ?? 'has.spserv.microsoft.com' } };
      case 'Get CorrelationID':
        return { code: '200', value: { format: 'int', value: this.#correlationId } };
      case 'Get Certificate': {
        const data = this.#dhaData();
        return data === undefined ? { code: '404' } : { code: '200', value: { format: 'b64', value: data } };
      }
      default:
        return { code: verb === 'Get' ? '404' : '405' };
    }
  }

  /** DHA-Data for the current nonce (or what the mischief makes of it). */
  #dhaData(): string | undefined {
    const replayed = this.replayWith ?? this.#firstData;
    if (this.mischief === 'replay' && replayed !== undefined) return replayed;
    const certificate = this.mischief === 'forge' ? { blob: randomBytes(48).toString('base64'), aikKey: randomBytes(32) } : this.#certificate;
    if (!certificate || this.#status !== '3') return undefined;
    const signature = createHmac('sha256', certificate.aikKey).update(this.#nonce).digest('base64');
    const claims = Buffer.from(JSON.stringify({ nonce: this.#nonce, signature }), 'utf8').toString('base64');
    const xml = el('HealthCertificateValidationRequest', { ProtocolVersion: '3', xmlns: VALIDATION_REQUEST_NS }, el('Claims', undefined, claims), el('HealthCertificateBlob', undefined, certificate.blob)).raw;
    const data = Buffer.from(`<?xml version="1.0" encoding="utf-8"?>${xml}`, 'utf8').toString('base64');
    this.#firstData ??= data;
    this.#lastData = data;
    return data;
  }
}

/** The nonce of a validation request the MDM sent (tests). */
export function validationNonce(request: string): string | undefined {
  return textAt(parseSimXml(request), 'Nonce')?.trim();
}

