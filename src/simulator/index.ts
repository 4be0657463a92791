/**
 * The simulator as a library (`openmam simulate` and the browser tests): a simulated fleet against a running server,
 * and its parts for precise test steps. It speaks to the server over HTTPS only and imports nothing of the server.
 */
export { startSimulation, randomDeviceProfile, DEVICE_SYNC_SECONDS, THREAT_TICK_SECONDS } from './simulation.ts';
export type { Simulation, SimulationEvent, SimulationOptions, SimulationStats } from './simulation.ts';
export { SimulatedDevice, refuseSomeSettings } from './simulated-device.ts';
export type { AppliedCommand, SettingRefusal, SimulatedDeviceOptions, SyncResult } from './simulated-device.ts';
export { SimulatedApp, MICROSOFT_EDGE, CONTOSO_APPS } from './simulated-app.ts';
export type { AppCheckIn, CatalogueApp, SimulatedAppOptions } from './simulated-app.ts';
export { AccessGateway, ThreatConnector, EXCHANGE_ONLINE, THREAT_LEVELS } from './services.ts';
export type { AccessResult, ServiceOptions, ThreatLevel } from './services.ts';
export { prepareDemoTenant, DEMO_NAMES } from './demo-tenant.ts';
export type { DemoTenantReport } from './demo-tenant.ts';
export { deviceProfile, userNames, WINDOWS_BUILDS } from './inventory.ts';
export type { DeviceProfile } from './inventory.ts';
export { seededRandom } from './random.ts';
export type { Random } from './random.ts';
export { HttpsTransport } from './https.ts';
export { TokenCache, claimOf } from './tokens.ts';
export type { TokenRequest, TokenSource } from './tokens.ts';
export { DeviceSimulator, EnrollmentHttpError, EnrollmentRefusedError, TryLaterError, tryLaterOf } from './device-simulator.ts';
export { SimulatedDhaService, SimulatedHealthAttestation, HEALTHY_BOOT, validationNonce } from './health-attestation.ts';
export type { AttestationMischief, BootState, SimulatedDhaServiceOptions, SimulatedHealthAttestationOptions } from './health-attestation.ts';
