/**
 * Test files run in parallel on shared cores: a test node's event-loop delay measures the machine, not the node's
 * load, and would shed a suite's requests at random. Every node a test starts takes this, but
 * test/http/load-shedding.test.ts, which turns the limit on.
 */
export const NO_LOOP_SHEDDING = { OPENMAM_MAX_EVENT_LOOP_DELAY: '0' } as const;
