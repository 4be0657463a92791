/**
 * `npm run model:fleet`: not a benchmark, a model in simulated time. It is how the bound of `RetryAfterScale`
 * (src/http/load-shedding.ts) was chosen, and it lets the next change to how Retry-After grows be weighed before it is
 * measured.
 *
 * The fleet is `bench:overload`'s (bench/fleet.ts): MODEL_CLIENTS clients, each on a slot every 28.5 s (client i first
 * at i / clients of that), together wanting MODEL_OVERLOAD x what the node answers. A client refused retries after
 * Retry-After x (1 + U/2), the fleet's rule (`retryDelayMs`); answered, it comes back at its next slot (`resumeSlot`).
 * The node answers MODEL_CAPACITY requests a second, and each refusal costs MODEL_REFUSAL_COST of an answer, so past
 * its capacity it answers g of A arrivals where g + r (A - g) = capacity: what bench:overload measures of a real node
 * (docs/benchmarks.md, "Issue 16, fourth session"). It samples every half second as the node does: the share it
 * admitted, and `RetryAfterScale.sample(refused, finished)`; a refusal's Retry-After is the node's own
 * `shedRetryAfterSeconds`.
 *
 * For each bound of the sustained factor in MODEL_CAPS (1: the share admitted alone, the rule before the sixth session),
 * it prints the share of the capacity answered over the whole run and after its first minute (past the storm of every
 * client's first check-in), and the refusals per answer after it. The last line is JSON.
 * Environment: MODEL_SECONDS (1200), MODEL_CLIENTS (230000), MODEL_CAPACITY (4000), MODEL_OVERLOAD (2, sets the
 * slot interval), MODEL_REFUSAL_COST (0.5), MODEL_CAPS (1,6,12,20,90), MODEL_SEED (1).
 */
import { RetryAfterScale, shedRetryAfterSeconds } from '../src/http/load-shedding.ts';
import { seededRandom } from '../src/simulator/random.ts';
import { resumeSlot, retryDelayMs } from './fleet.ts';

const number = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const SECONDS = number('MODEL_SECONDS', 1200);
const CLIENTS = number('MODEL_CLIENTS', 230_000);
const CAPACITY = number('MODEL_CAPACITY', 4000);
const INTERVAL_S = CLIENTS / (number('MODEL_OVERLOAD', 2) * CAPACITY);
const REFUSAL_COST = number('MODEL_REFUSAL_COST', 0.5);
const CAPS = (process.env['MODEL_CAPS'] ?? '1,6,12,20,90').split(',').map(Number);
const SEED = number('MODEL_SEED', 1);
/** The model's step (s): arrivals within one are answered in a random order. */
const STEP_S = 0.1;
/** The node's sample (http/load-shedding.ts EVENT_LOOP_SAMPLE_MS). */
const STEPS_PER_SAMPLE = 5;
/** Past the first interval's storm and the minute after it. */
const SETTLED_S = 60;

interface ModelResult {
  cap: number;
  goodputShare: number;
  settledGoodputShare: number;
  settledRefusedPerAnswer: number;
}

function model(cap: number): ModelResult {
  const random = seededRandom(SEED);
  const steps = Math.ceil(SECONDS / STEP_S);
  /** Per step, the clients whose attempt falls in it. */
  const due: number[][] = Array.from({ length: steps }, () => []);
  const schedule = (client: number, atS: number): void => {
    const step = Math.floor(atS / STEP_S);
    if (step < steps) due[step]!.push(client);
  };
  const phaseS = (client: number): number => (client / CLIENTS) * INTERVAL_S;
  const slotOf = new Float64Array(CLIENTS);
  for (let client = 0; client < CLIENTS; client++) schedule(client, phaseS(client));

  const scale = new RetryAfterScale(cap);
  let share = 1;
  let [sampleArrived, sampleAdmitted, sampleRefused] = [0, 0, 0];
  let [answered, settledAnswered, settledRefused] = [0, 0, 0];
  for (let step = 0; step < steps; step++) {
    const nowS = step * STEP_S;
    const arrivals = due[step]!;
    due[step] = [];
    // A random order within the step, then as many answered as the node's time allows beside the refusals.
    for (let i = arrivals.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [arrivals[i], arrivals[j]] = [arrivals[j]!, arrivals[i]!];
    }
    const budget = CAPACITY * STEP_S;
    const admitted = arrivals.length <= budget ? arrivals.length : Math.max(0, Math.floor((budget - REFUSAL_COST * arrivals.length) / (1 - REFUSAL_COST)));
    for (const [index, client] of arrivals.entries()) {
      if (index < admitted) {
        const slot = resumeSlot(slotOf[client]!, phaseS(client), INTERVAL_S, nowS);
        slotOf[client] = slot;
        schedule(client, phaseS(client) + slot * INTERVAL_S);
      } else {
        const retryAfter = shedRetryAfterSeconds(share, scale.value, random.next());
        schedule(client, nowS + retryDelayMs(503, String(retryAfter), random)! / 1000);
      }
    }
    const refused = arrivals.length - admitted;
    answered += admitted;
    if (nowS >= SETTLED_S) [settledAnswered, settledRefused] = [settledAnswered + admitted, settledRefused + refused];
    [sampleArrived, sampleAdmitted, sampleRefused] = [sampleArrived + arrivals.length, sampleAdmitted + admitted, sampleRefused + refused];
    if ((step + 1) % STEPS_PER_SAMPLE === 0) {
      if (sampleArrived > 0) share = sampleAdmitted / sampleArrived;
      scale.sample(sampleRefused, sampleAdmitted);
      [sampleArrived, sampleAdmitted, sampleRefused] = [0, 0, 0];
    }
  }
  return {
    cap,
    goodputShare: answered / SECONDS / CAPACITY,
    settledGoodputShare: settledAnswered / (SECONDS - SETTLED_S) / CAPACITY,
    settledRefusedPerAnswer: settledRefused / Math.max(1, settledAnswered),
  };
}

const results = CAPS.map(model);
console.log(`fleet model: ${CLIENTS} clients every ${INTERVAL_S.toFixed(1)} s, a node answering ${CAPACITY}/s, a refusal at ${REFUSAL_COST} of an answer, ${SECONDS} s`);
for (const r of results) {
  console.log(
    `  sustained factor at most ${String(r.cap).padStart(3)}: answered ${r.goodputShare.toFixed(2)} of the capacity, ${r.settledGoodputShare.toFixed(2)} after ${SETTLED_S} s, ` +
      `refusals per answer after it ${r.settledRefusedPerAnswer.toFixed(2)}`,
  );
}
const round = (value: number): number => Math.round(value * 1000) / 1000;
console.log(
  JSON.stringify({
    model: 'fleet',
    seconds: SECONDS,
    clients: CLIENTS,
    capacity_per_s: CAPACITY,
    refusal_cost: REFUSAL_COST,
    by_cap: results.map((r) => ({ cap: r.cap, goodput_share: round(r.goodputShare), settled_goodput_share: round(r.settledGoodputShare), settled_refused_per_answer: round(r.settledRefusedPerAnswer) })),
  }),
);
