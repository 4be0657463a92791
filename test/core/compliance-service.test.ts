import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComplianceService } from '../../src/core/compliance/compliance-service.ts';
import type { ComplianceStore } from '../../src/store/compliance-records.ts';
import type { EnrollmentRecord } from '../../src/store/records.ts';

/** The evaluator's queue after inventory changes: off the session's path, its failures logged, never thrown. */
describe('compliance service: inventory changes', () => {
  const enrollment = (id: string) => ({ id, tenantId: 't' }) as EnrollmentRecord;

  it('queues devices, judges them together in one read and one write, and logs a failure instead of throwing', async () => {
    const reads: string[][] = [];
    let fail = true;
    const store = {
      complianceSubjectsByIds: async (ids: readonly string[]) => {
        reads.push([...ids]);
        if (fail) throw new Error('database away');
        return [];
      },
      saveComplianceResults: async () => true,
      listCompliancePolicies: async () => [],
    } as unknown as ComplianceStore;
    const errors: string[] = [];
    const service = new ComplianceService({ store, groups: { groupsOfMembers: async () => new Map() }, clock: () => 0, nodeId: 'n', onError: (_error, what) => errors.push(what) });
    assert.doesNotThrow(() => {
      service.inventoryChanged(enrollment('a'));
      service.inventoryChanged(enrollment('b'));
      service.inventoryChanged(enrollment('a'));
    });
    await service.flush();
    assert.deepEqual(reads, [['a', 'b']], 'one read for the queued devices, each once');
    assert.deepEqual(errors, ['compliance evaluation after an inventory change']);
    fail = false;
    service.inventoryChanged(enrollment('c'));
    await service.flush();
    assert.deepEqual(reads[1], ['c']);
    await service.close();
    service.inventoryChanged(enrollment('d'));
    await service.flush();
    assert.equal(reads.length, 2, 'nothing queued once closed');
  });
});
