import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childEnvironment, compareRounds, comparisonTable, describeEnv, numericFigures, parseArguments, parseAssignment, SAME_TREE, summaryOf } from '../../bench/interleave.ts';

describe('bench:interleave', () => {
  it('reads the base, the rounds, the order and the scripts after --', () => {
    assert.deepEqual(parseArguments(['--base', 'main~3', '--rounds', '5', '--abba', '--', 'bench:sync', 'bench:checkin']), {
      base: 'main~3',
      baseEnv: {},
      headEnv: {},
      rounds: 5,
      abba: true,
      out: undefined,
      scripts: ['bench:sync', 'bench:checkin'],
    });
    assert.deepEqual(parseArguments(['--base', 'abc123', 'bench:policy']).rounds, 3);
  });

  it('reads --base-env and --head-env, repeatable, for their side only; --base . is this tree on both sides', () => {
    const options = parseArguments([
      '--base', SAME_TREE,
      '--base-env', 'BENCH_STORE=sqlite',
      '--head-env', 'BENCH_STORE=postgres',
      '--head-env', 'OPENMAM_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?options=-c%20x=y',
      '--base-env', 'EMPTY=',
      '--rounds', '1', '--', 'bench:policy',
    ]);
    assert.equal(options.base, '.');
    assert.deepEqual(options.baseEnv, { BENCH_STORE: 'sqlite', EMPTY: '' });
    assert.deepEqual(options.headEnv, { BENCH_STORE: 'postgres', OPENMAM_BENCH_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/test?options=-c%20x=y' }, 'the value is everything after the first =');
    assert.deepEqual(parseArguments(['--base', 'HEAD', '--head-env', 'A=1', '--head-env', 'A=2', 'bench:sync']).headEnv, { A: '2' }, 'the last of a repeated key wins');
    assert.equal(describeEnv(options.headEnv), 'BENCH_STORE=postgres OPENMAM_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?options=-c%20x=y');
    assert.equal(describeEnv({}), '(none)');
  });

  it("gives a run the passed-through environment with its side's variables over it and the tree's .bin first on PATH", () => {
    const env = childEnvironment('/t', { BENCH_STORE: 'postgres' }, { BENCH_STORE: 'sqlite', BENCH_DEVICES: '3000', PATH: '/usr/bin' });
    assert.deepEqual(env, { BENCH_STORE: 'postgres', BENCH_DEVICES: '3000', PATH: '/t/node_modules/.bin:/usr/bin' });
  });

  it('refuses a malformed KEY=VALUE with the usage', () => {
    for (const bad of ['BENCH_STORE', '=postgres', '1X=2', 'BENCH STORE=x', 'A-B=1', '']) {
      assert.throws(() => parseArguments(['--base', '.', '--head-env', bad, '--', 'bench:sync']), (error: Error) => {
        assert.match(error.message, /--head-env takes KEY=VALUE/);
        assert.match(error.message, /usage: npm run bench:interleave/);
        return true;
      }, JSON.stringify(bad));
    }
    assert.throws(() => parseArguments(['--base', '.', '--base-env', 'NOEQUALS', 'bench:sync']), /--base-env takes KEY=VALUE/);
    assert.throws(() => parseArguments(['--base', '.', '--base-env', '--', 'bench:sync']), /--base-env needs a value/);
    assert.throws(() => parseArguments(['--base', '.', '--head-env']), /--head-env needs a value/);
    assert.deepEqual(parseAssignment('--base-env', '_x9=a=b'), ['_x9', 'a=b']);
  });

  it('refuses a missing base, a bad round count, an unknown option and no script', () => {
    assert.throws(() => parseArguments(['--', 'bench:sync']), /--base is required/);
    assert.throws(() => parseArguments(['--base', 'main', '--rounds', '0', '--', 'bench:sync']), /--rounds must be a whole number/);
    assert.throws(() => parseArguments(['--base', 'main', '--rounds', 'two', '--', 'bench:sync']), /--rounds must be a whole number/);
    assert.throws(() => parseArguments(['--base', '--rounds', '3', '--', 'bench:sync']), /--base needs a value/);
    assert.throws(() => parseArguments(['--base', 'main', '--fast', '--', 'bench:sync']), /unknown option --fast/);
    assert.throws(() => parseArguments(['--base', 'main']), /name at least one benchmark script/);
  });

  it("takes the last JSON line with a bench field as the summary, skipping log lines and other JSON", () => {
    const stdout = ['{"bench":"sync","ops_per_s":1}', 'a log line', '{not json', '{"other":2}', '{"bench":"sync","ops_per_s":7}', '{"progress":true}', ''].join('\n');
    assert.deepEqual(summaryOf(stdout), { bench: 'sync', ops_per_s: 7 });
    assert.equal(summaryOf('no summary here\n{"x":1}\n'), undefined);
  });

  it('flattens nested figures to dotted names, names array elements by their store or index, leaves out strings, booleans and nulls', () => {
    const figures = numericFigures({ bench: 'access', p99_ms: 1.5, target_met: true, ratio_large: null, sweep: { '1000': { p99_ms: 0.6 } }, spread: [0.9, 1.1], results: [{ store: 'sqlite', firstUs: 10 }, { store: 'postgres', firstUs: 12 }] });
    assert.deepEqual([...figures], [
      ['p99_ms', 1.5],
      ['sweep.1000.p99_ms', 0.6],
      ['spread.0', 0.9],
      ['spread.1', 1.1],
      ['results.sqlite.firstUs', 10],
      ['results.postgres.firstUs', 12],
    ]);
  });

  it('pairs round i of base with round i of head: per-round ratios, their median and spread', () => {
    const base = [new Map([['ops', 100], ['zero', 0]]), new Map([['ops', 200]]), new Map([['ops', 100], ['only_base', 3]])];
    const head = [new Map([['ops', 110], ['zero', 5]]), new Map([['ops', 180]]), new Map([['ops', 130]])];
    const figures = compareRounds(base, head);
    const ops = figures.get('ops')!;
    assert.deepEqual(ops.ratios.map((r) => Number(r.toFixed(3))), [1.1, 0.9, 1.3]);
    assert.equal(Number(ops.median_ratio!.toFixed(3)), 1.1);
    assert.equal(Number(ops.min_ratio!.toFixed(3)), 0.9);
    assert.equal(Number(ops.max_ratio!.toFixed(3)), 1.3);
    assert.equal(figures.get('zero')!.median_ratio, null, 'a base figure of 0 gives no ratio');
    assert.deepEqual(figures.get('only_base')!.ratios, []);
    const table = comparisonTable(figures);
    assert.match(table, /^ops\s+100\s+130\s+1\.100 0\.900 1\.300\s+1\.100\s+0\.900–1\.300$/m);
    assert.match(table, /not compared: zero, only_base/);
  });
});
