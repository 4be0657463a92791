import { Counter, Histogram, type MetricType, type Registry } from 'prom-client';

/**
 * Counters and histograms whose hot path is a field increment. prom-client's own label children hash their label
 * object and allocate on every `inc()`/`observe()` (about 1 µs for a counter and a histogram per request, measured on
 * this machine: docs/operations.md "Metrics"); here each label set is a cell, bound once, and a request bumps its
 * numbers. The families are still prom-client metrics, registered in the app's registry and written by it: they only
 * answer `get()` from their cells, in the shape prom-client writes (prometheus.io/docs/instrumenting/exposition_formats).
 */

type Labels<L extends string> = Readonly<Record<L, string>>;

// prom-client's typings declare MetricType as a numeric enum, but the library sets and writes the strings
// (lib/counter.js `this.type = 'counter'`) and exports no such enum at run time: the strings, typed as it declares.
const COUNTER_TYPE = 'counter' as unknown as MetricType;
const HISTOGRAM_TYPE = 'histogram' as unknown as MetricType;
/** Cells are current at all times: nothing to collect before a scrape. */
const noCollect = (): void => {};

/** One label set of a counter. */
export class CounterCell<L extends string> {
  value = 0;
  constructor(readonly labels: Labels<L>) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/** One label set of a histogram: counts per bucket (not cumulative; the last is +Inf), their sum and count. */
export class HistogramCell<L extends string> {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels<L>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    // Linear: a dozen bounds, most observations fall in the first few.
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

interface FamilyConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

/** The cells of one family, by their label values in label order (a label value never holds a NUL). */
class Cells<L extends string, C> {
  readonly #byKey = new Map<string, C>();

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: (labels: Labels<L>) => C,
  ) {}

  get(labels: Labels<L>): C {
    const key = this.labelNames.map((name) => labels[name]).join('\0');
    let cell = this.#byKey.get(key);
    if (cell === undefined) {
      cell = this.create({ ...labels });
      this.#byKey.set(key, cell);
    }
    return cell;
  }

  values(): IterableIterator<C> {
    return this.#byKey.values();
  }
}

export class LeanCounter<L extends string> extends Counter<L> {
  readonly #name: string;
  readonly #help: string;
  readonly #cells: Cells<L, CounterCell<L>>;

  constructor(config: FamilyConfig<L>) {
    super({ name: config.name, help: config.help, labelNames: [...config.labelNames], registers: [config.registry] });
    this.#name = config.name;
    this.#help = config.help;
    this.#cells = new Cells(config.labelNames, (labels) => new CounterCell(labels));
  }

  /** The cell of one label set: look it up once (at start, per route, per outcome), then `inc()` it on the hot path. */
  cell(labels: Labels<L>): CounterCell<L> {
    return this.#cells.get(labels);
  }

  override async get(): ReturnType<Counter<L>['get']> {
    const values = [...this.#cells.values()].map((cell) => ({ labels: { ...cell.labels }, value: cell.value }));
    return { name: this.#name, help: this.#help, type: COUNTER_TYPE, aggregator: 'sum', collect: noCollect, values };
  }
}

export class LeanHistogram<L extends string> extends Histogram<string> {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #cells: Cells<L, HistogramCell<L>>;

  constructor(config: FamilyConfig<L> & { buckets: readonly number[] }) {
    super({ name: config.name, help: config.help, labelNames: [...config.labelNames], buckets: [...config.buckets], registers: [config.registry] });
    this.#name = config.name;
    this.#help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    this.#cells = new Cells(config.labelNames, (labels) => new HistogramCell(labels, this.#bounds));
  }

  cell(labels: Labels<L>): HistogramCell<L> {
    return this.#cells.get(labels);
  }

  override async get(): ReturnType<Histogram<string>['get']> {
    const values: { metricName: string; labels: Partial<Record<string, string | number>>; value: number }[] = [];
    for (const cell of this.#cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({ metricName: `${this.#name}_bucket`, labels: { ...cell.labels, le: this.#bounds[i]! }, value: cumulative });
      }
      values.push({ metricName: `${this.#name}_bucket`, labels: { ...cell.labels, le: '+Inf' }, value: cell.count });
      values.push({ metricName: `${this.#name}_sum`, labels: { ...cell.labels }, value: cell.sum });
      values.push({ metricName: `${this.#name}_count`, labels: { ...cell.labels }, value: cell.count });
    }
    return { name: this.#name, help: this.#help, type: HISTOGRAM_TYPE, aggregator: 'sum', collect: noCollect, values };
  }

  /** prom-client's registry writes a histogram from this method when it has one (lib/registry.js): the same values. */
  getForPromString(): ReturnType<Histogram<string>['get']> {
    return this.get();
  }
}
