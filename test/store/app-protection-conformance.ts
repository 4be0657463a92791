import type { Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { appProtectionFixture } from './conformance-support.ts';
import { accessPolicyConformance } from './conformance/access-policies.ts';
import { appOperationConformance } from './conformance/app-operations.ts';
import { appPolicyConformance } from './conformance/app-policies.ts';
import { appProtectionLifecycleConformance } from './conformance/app-protection-lifecycle.ts';
import { appRegistrationConformance } from './conformance/app-registrations.ts';
import { blockedUserConformance } from './conformance/blocked-users.ts';
import { catalogueConformance } from './conformance/catalogue.ts';
import { retentionConformance } from './conformance/retention.ts';
import { threatConformance } from './conformance/threat.ts';

/**
 * The contract of src/store/app-protection-roles.ts, for every backend: one suite per concern (./conformance/), on
 * one store. `open` must return a migrated store on the same database each time it is called. Every test works with
 * its own tenant and random ids. Times are around T0, except the retention tests', which are around P (long before
 * T0): a purge at P touches no other test's rows, so its counts are exact.
 */
export function appProtectionConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`app protection store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    const fixture = appProtectionFixture(open);
    appPolicyConformance(fixture);
    appRegistrationConformance(fixture);
    appOperationConformance(fixture);
    blockedUserConformance(fixture);
    threatConformance(fixture);
    accessPolicyConformance(fixture);
    catalogueConformance(fixture);
    retentionConformance(fixture);
    appProtectionLifecycleConformance(fixture, open);
  });
}
