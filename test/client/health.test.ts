import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  backoffDelayMs,
  compareVersions,
  evaluateHealthChecks,
  MamClient,
  parseIsoDuration,
  parseVersion,
  SDK_VERSION,
  type PolicySettings,
} from '../../packages/client/src/index.ts';
import { FakeClock, MamServerDouble, policyDocument, tokenFor } from './mam-server-double.ts';

/** Version health checks evaluated on the device, and the small rules under them. */

const RUNNING = { appVersion: '4.10.0', sdkVersion: '1.2.0', osVersion: '10.0.22631.3155' };

describe('versions', () => {
  it('SDK_VERSION is the package version', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../packages/client/package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(SDK_VERSION, manifest.version);
  });

  it('compares numerically, component by component, a missing component counting as 0', () => {
    const cmp = (a: string, b: string): number => compareVersions(parseVersion(a)!, parseVersion(b)!);
    assert.equal(cmp('4.10', '4.9'), 1);
    assert.equal(cmp('10.0.22631', '10.0.22631.0'), 0);
    assert.equal(cmp('10.0.22621.9999', '10.0.22631.1'), -1);
    assert.equal(cmp('2', '10'), -1);
  });

  it('is not a version unless dotted digits', () => {
    for (const text of ['', '1.0-beta', 'v4', ' 4.2', '4..2', '1.2.3.4.5.6.7', '1234567890']) assert.equal(parseVersion(text), undefined, text);
  });
});

describe('evaluateHealthChecks', () => {
  const failures = (settings: PolicySettings, running = RUNNING): string[] => evaluateHealthChecks(settings, running).map((f) => `${f.setting}:${f.action}`);

  it('passes when every bound is met (4.10 is above 4.9)', () => {
    assert.deepEqual(
      failures({
        minimumRequiredAppVersion: '4.9',
        minimumWipeAppVersion: '4.0',
        minimumWarningAppVersion: '4.10.0',
        minimumRequiredSdkVersion: '1.2',
        minimumRequiredOsVersion: '10.0.22631.3155',
        maximumRequiredOsVersion: '10.0.22631.3155',
        maximumWarningOsVersion: '10.0.26100',
      }),
      [],
    );
  });

  it('reports wipes, then blocks, then warnings, SDK, app and OS within each: the server\'s order (@openmam/contract)', () => {
    assert.deepEqual(
      failures({
        minimumWarningOsVersion: '10.0.26100',
        minimumRequiredOsVersion: '10.0.22631.3200',
        minimumRequiredAppVersion: '4.11',
        minimumWipeSdkVersion: '2.0',
        maximumWipeOsVersion: '10.0.22000',
        minimumWarningAppVersion: '5.0',
      }),
      [
        'minimumWipeSdkVersion:wipe',
        'maximumWipeOsVersion:wipe',
        'minimumRequiredAppVersion:block',
        'minimumRequiredOsVersion:block',
        'minimumWarningAppVersion:warn',
        'minimumWarningOsVersion:warn',
      ],
    );
  });

  it('fails closed on a running version that is not one; ignores unset and unreadable bounds', () => {
    assert.deepEqual(failures({ minimumRequiredAppVersion: '1.0' }, { ...RUNNING, appVersion: '4.10-beta' }), ['minimumRequiredAppVersion:block']);
    // As the server judges it: never a wipe on a version nobody can read, one block per bound.
    assert.deepEqual(failures({ minimumWipeOsVersion: '10.0', maximumWarningOsVersion: '11.0' }, { ...RUNNING, osVersion: 'ten' }), [
      'minimumRequiredOsVersion:block',
      'maximumRequiredOsVersion:block',
    ]);
    assert.deepEqual(failures({ minimumRequiredAppVersion: null, minimumRequiredOsVersion: 'latest', maximumRequiredOsVersion: '' }), []);
  });
});

describe('local health in the client', () => {
  const server = new MamServerDouble();
  before(() => server.start());
  after(() => server.close());

  it('blocks on a failed required check, warns on a warning, and reports block/wipe failures at check-in', async () => {
    server.policy = policyDocument('pol-1:1', { minimumRequiredOsVersion: '10.0.26100.1', minimumWarningAppVersion: '5.0', minimumWipeSdkVersion: '1.1' });
    const client = new MamClient({
      serverUrl: server.url,
      getToken: async () => tokenFor('henry'),
      app: { appId: 'com.contoso.notes', appVersion: RUNNING.appVersion, sdkVersion: '1.0.9' },
      device: { osVersion: RUNNING.osVersion, deviceTag: 'tag-henry' },
      clock: new FakeClock(),
    });
    await client.register();
    assert.deepEqual(client.evaluateLocalHealth(), [
      { setting: 'minimumWipeSdkVersion', action: 'wipe' },
      { setting: 'minimumRequiredOsVersion', action: 'block' },
      { setting: 'minimumWarningAppVersion', action: 'warn' },
    ]);
    const state = client.accessState();
    assert.equal(state.status, 'blocked', 'a wipe-level failure blocks until the server sends the wipe');
    assert.deepEqual(state.reasons, ['minimumWipeSdkVersion', 'minimumRequiredOsVersion', 'minimumWarningAppVersion']);
    assert.equal(state.message?.title, 'App can no longer be used');
    assert.deepEqual(state.warnings.map((w) => w.title), ['Update recommended']);

    await client.checkIn();
    assert.deepEqual(server.calls('checkin')[0]!.body['healthCheckFailures'], [
      { setting: 'minimumWipeSdkVersion', action: 'wipe' },
      { setting: 'minimumRequiredOsVersion', action: 'block' },
    ]);

    server.policy = policyDocument('pol-1:2', { minimumWarningAppVersion: '5.0' });
    await client.checkIn();
    assert.equal(client.accessState().status, 'warned');
    assert.equal(client.canAccessOrgData(), true);
  });
});

describe('ISO 8601 durations and back-off', () => {
  it('reads the periods Graph uses', () => {
    assert.equal(parseIsoDuration('PT720M'), 720 * 60_000);
    assert.equal(parseIsoDuration('P90D'), 90 * 86_400_000);
    assert.equal(parseIsoDuration('PT0S'), 0);
    assert.equal(parseIsoDuration('P1DT12H'), 36 * 3_600_000);
    for (const text of ['P', 'PT', 'P1DT', 'P1Y', '-P1D', 'pt5m', '720']) assert.equal(parseIsoDuration(text), undefined, text);
  });

  it('back-off: 30 s doubling to a 60-minute cap, jittered within the upper half of each step', () => {
    assert.equal(backoffDelayMs(1, () => 0), 15_000);
    assert.equal(backoffDelayMs(1, () => 0.5), 22_500);
    assert.equal(backoffDelayMs(3, () => 0), 60_000);
    assert.equal(backoffDelayMs(50, () => 0), 1_800_000);
    assert.equal(backoffDelayMs(5000, () => 0.9999999), 3_600_000);
  });
});
