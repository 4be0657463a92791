import type { SecretStore, Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { storeFixture } from './conformance-support.ts';
import { configurationConformance } from './conformance/configuration.ts';
import { enrollmentConcurrencyConformance, enrollmentConformance } from './conformance/enrollments.ts';
import { groupConformance } from './conformance/groups.ts';
import { lifecycleConformance } from './conformance/lifecycle.ts';
import { managementConformance } from './conformance/management.ts';
import { policyConformance } from './conformance/policies.ts';
import { secretConformance } from './conformance/secrets.ts';
import { tenantConformance } from './conformance/tenants.ts';
import { userConformance } from './conformance/users.ts';
import { wipLogConformance } from './conformance/wip-logs.ts';

/**
 * The contract of src/store/roles.ts, for every backend: one suite per role (./conformance/), on one store.
 * `open` must return a store on the same database each time it is called (the suite opens a second instance to
 * check persistence); the database may hold data of earlier runs, so every test works with its own random ids.
 */
export function storeConformance(name: string, open: () => Promise<Store & SecretStore>, options: { skip?: string } = {}): void {
  skippableSuite(`store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    const fixture = storeFixture(open);
    lifecycleConformance(fixture, open);
    tenantConformance(fixture);
    enrollmentConformance(fixture);
    secretConformance(fixture);
    configurationConformance(fixture);
    groupConformance(fixture);
    policyConformance(fixture);
    managementConformance(fixture);
    userConformance(fixture);
    wipLogConformance(fixture);
    enrollmentConcurrencyConformance(fixture);
  });
}
