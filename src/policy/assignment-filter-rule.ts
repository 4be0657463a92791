/**
 * The rule language of Intune's assignment filters (learn.microsoft.com/mem/intune/fundamentals/
 * filters-device-properties, "Advanced rule editing" and "Operators"): clauses `(device.property -operator "value")`
 * or `-in ["a", "b"]`, joined with `and` / `or`, nested in parentheses. Pure: parse returns an AST or throws a
 * RuleRefusal that names the character position (0-based, into the rule as given); evaluate judges an AST against a
 * subject's facts.
 *
 * What OpenMAM decides where the page is silent (docs/graph.md, "Assignment filters"):
 * - keywords, property names and operators are case-insensitive, and so is every comparison (Intune's rule editor);
 * - `and` binds tighter than `or` (as in Entra's dynamic membership rules); parentheses override;
 * - a clause on a property the subject has not reported (null) is false whatever its operator (`-ne` and `-notIn`
 *   included): an include filter does not match an unknown device, an exclude filter does not exclude it;
 * - properties Intune lists for Windows that a MAM device never reports to OpenMAM (cpuArchitecture, deviceCategory,
 *   enrollmentProfileName, deviceTrustType, ...) are refused, not treated as unknown: a filter on them would silently
 *   never match.
 */

export type FilterOperator = 'eq' | 'ne' | 'startsWith' | 'contains' | 'notContains' | 'in' | 'notIn' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterRule =
  | { kind: 'and' | 'or'; operands: FilterRule[] }
  | { kind: 'clause'; entity: 'device' | 'app'; property: string; operator: FilterOperator; values: string[] };

/** Which properties a filter's rule may name: by management type (devices: `device.*`, apps: `app.*`). */
export type FilterManagementType = 'devices' | 'apps';

export class RuleRefusal extends Error {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`${reason} at position ${position}`);
  }
}

/** Bounds: a rule longer or deeper than this is refused (the parser recurses once per parenthesis level). */
export const MAX_RULE_LENGTH = 3072;
export const MAX_RULE_DEPTH = 16;
export const MAX_IN_VALUES = 100;
export const MAX_CLAUSES = 64;

const STRING_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'in', 'notIn', 'startsWith', 'contains', 'notContains'];
const ENUM_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'in', 'notIn'];
const VERSION_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'in', 'notIn', 'gt', 'ge', 'lt', 'le'];

interface PropertyRule {
  /** The name as Intune writes it. */
  name: string;
  operators: readonly FilterOperator[];
  /** Values are dotted versions (compared numerically by -gt/-ge/-lt/-le). */
  version?: boolean;
}

function properties(list: readonly PropertyRule[]): ReadonlyMap<string, PropertyRule> {
  return new Map(list.map((p) => [p.name.toLowerCase(), p]));
}

/**
 * Windows device properties a MAM device states (core/devices/device-facts.ts): the page's managed device properties
 * for Windows 10 and later, with the operators it allows each.
 */
export const DEVICE_PROPERTIES = properties([
  { name: 'deviceName', operators: STRING_OPERATORS },
  { name: 'manufacturer', operators: STRING_OPERATORS },
  { name: 'model', operators: STRING_OPERATORS },
  { name: 'osVersion', operators: ['eq', 'ne', 'in', 'notIn', 'startsWith'] },
  { name: 'operatingSystemVersion', operators: VERSION_OPERATORS, version: true },
  { name: 'operatingSystemSKU', operators: ENUM_OPERATORS },
  { name: 'deviceOwnership', operators: ENUM_OPERATORS },
]);

/** Windows device properties Intune offers that OpenMAM cannot know of a MAM device (refused, see above). */
const DEVICE_PROPERTIES_NOT_REPORTED: ReadonlySet<string> = new Set(
  ['cpuArchitecture', 'deviceCategory', 'enrollmentProfileName', 'deviceTrustType', 'isTpmAttested', 'deviceManagementType'].map((n) => n.toLowerCase()),
);

/**
 * Managed app properties for Windows (platform windowsMobileApplicationManagement), judged against what an app
 * registration records (store/app-protection-records.ts AppRegistrationRecord).
 */
export const APP_PROPERTIES = properties([
  { name: 'appVersion', operators: STRING_OPERATORS },
  { name: 'deviceManufacturer', operators: STRING_OPERATORS },
  { name: 'deviceModel', operators: STRING_OPERATORS },
  { name: 'osVersion', operators: ['eq', 'ne', 'in', 'notIn', 'startsWith'] },
  { name: 'operatingSystemVersion', operators: VERSION_OPERATORS, version: true },
]);

const APP_PROPERTIES_NOT_REPORTED: ReadonlySet<string> = new Set(['deviceManagementType'].map((n) => n.toLowerCase()));

const OPERATORS: ReadonlyMap<string, FilterOperator> = new Map(
  (['eq', 'ne', 'startsWith', 'contains', 'notContains', 'in', 'notIn', 'gt', 'ge', 'lt', 'le'] as const).map((o) => [o.toLowerCase(), o]),
);

/** The platform a filter of each management type is for (Graph devicePlatformType). */
export const FILTER_PLATFORM: Readonly<Record<FilterManagementType, string>> = {
  devices: 'windows10AndLater',
  apps: 'windowsMobileApplicationManagement',
};

const VERSION = /^\d{1,9}(\.\d{1,9}){0,3}$/;

type Token =
  | { type: 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'comma' | 'end'; at: number }
  | { type: 'word'; text: string; at: number }
  | { type: 'operator'; text: string; at: number }
  | { type: 'string'; value: string; at: number };

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const at = i;
    if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',') {
      tokens.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : c === '[' ? 'lbracket' : c === ']' ? 'rbracket' : 'comma', at });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= rule.length) throw new RuleRefusal(at, 'unterminated string');
        const d = rule[i]!;
        if (d === '"') break;
        if (d === '\\' && (rule[i + 1] === '"' || rule[i + 1] === '\\')) {
          value += rule[i + 1];
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ type: 'string', value, at });
    } else if (c === '-') {
      i++;
      while (i < rule.length && /[A-Za-z]/.test(rule[i]!)) i++;
      tokens.push({ type: 'operator', text: rule.slice(at + 1, i), at });
    } else if (/[A-Za-z]/.test(c)) {
      while (i < rule.length && /[A-Za-z0-9_.]/.test(rule[i]!)) i++;
      tokens.push({ type: 'word', text: rule.slice(at, i), at });
    } else {
      throw new RuleRefusal(at, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ type: 'end', at: rule.length });
  return tokens;
}

/**
 * Parses a rule for filters of a management type. Throws RuleRefusal (position and reason) for a syntax error, an
 * unknown property or operator, an operator the property does not take, a value that is not a version where one
 * is needed, or a rule beyond the bounds.
 */
export function parseFilterRule(rule: string, managementType: FilterManagementType): FilterRule {
  if (rule.length > MAX_RULE_LENGTH) throw new RuleRefusal(MAX_RULE_LENGTH, `the rule is longer than ${MAX_RULE_LENGTH} characters`);
  const tokens = tokenize(rule);
  let pos = 0;
  let clauses = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const describe = (t: Token): string => (t.type === 'end' ? 'the end of the rule' : t.type === 'string' ? `"${t.value}"` : t.type === 'word' ? t.text : t.type === 'operator' ? `-${t.text}` : t.type);
  const expect = (type: Token['type'], what: string): Token => {
    const t = next();
    if (t.type !== type) throw new RuleRefusal(t.at, `expected ${what}, found ${describe(t)}`);
    return t;
  };
  const keyword = (t: Token): string | undefined => (t.type === 'word' ? t.text.toLowerCase() : undefined);

  const expression = (depth: number): FilterRule => {
    const operands = [conjunction(depth)];
    while (keyword(peek()) === 'or') {
      next();
      operands.push(conjunction(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  };
  const conjunction = (depth: number): FilterRule => {
    const operands = [primary(depth)];
    while (keyword(peek()) === 'and') {
      next();
      operands.push(primary(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  };
  const primary = (depth: number): FilterRule => {
    const t = peek();
    if (t.type === 'lparen') {
      if (depth >= MAX_RULE_DEPTH) throw new RuleRefusal(t.at, `parentheses nest deeper than ${MAX_RULE_DEPTH} levels`);
      next();
      const inner = expression(depth + 1);
      expect('rparen', '")"');
      return inner;
    }
    return clause();
  };
  const clause = (): FilterRule => {
    const t = next();
    if (t.type !== 'word') throw new RuleRefusal(t.at, `expected a property such as device.deviceName, found ${describe(t)}`);
    if (++clauses > MAX_CLAUSES) throw new RuleRefusal(t.at, `the rule has more than ${MAX_CLAUSES} clauses`);
    const property = resolveProperty(t.text, t.at, managementType);
    const o = next();
    if (o.type !== 'operator') throw new RuleRefusal(o.at, `expected an operator such as -eq, found ${describe(o)}`);
    const operator = OPERATORS.get(o.text.toLowerCase());
    if (operator === undefined) throw new RuleRefusal(o.at, `-${o.text} is not an operator of filter rules`);
    if (!property.rule.operators.includes(operator)) {
      throw new RuleRefusal(o.at, `-${operator} is not an operator of ${property.entity}.${property.rule.name} (${property.rule.operators.map((x) => `-${x}`).join(', ')})`);
    }
    const values: { value: string; at: number }[] = [];
    if (operator === 'in' || operator === 'notIn') {
      expect('lbracket', '"["');
      for (;;) {
        const v = expect('string', 'a quoted value');
        values.push({ value: (v as { value: string }).value, at: v.at });
        if (values.length > MAX_IN_VALUES) throw new RuleRefusal(v.at, `-${operator} takes at most ${MAX_IN_VALUES} values`);
        const sep = next();
        if (sep.type === 'rbracket') break;
        if (sep.type !== 'comma') throw new RuleRefusal(sep.at, `expected "," or "]", found ${describe(sep)}`);
      }
    } else {
      const v = expect('string', 'a quoted value');
      values.push({ value: (v as { value: string }).value, at: v.at });
    }
    if (property.rule.version && ['gt', 'ge', 'lt', 'le'].includes(operator)) {
      for (const v of values) if (!VERSION.test(v.value)) throw new RuleRefusal(v.at, `${JSON.stringify(v.value)} is not a version such as "10.0.22631.2428"`);
    }
    return { kind: 'clause', entity: property.entity, property: property.rule.name, operator, values: values.map((v) => v.value) };
  };

  const tree = expression(0);
  const rest = peek();
  if (rest.type !== 'end') throw new RuleRefusal(rest.at, `expected and, or or the end of the rule, found ${describe(rest)}`);
  return tree;
}

function resolveProperty(text: string, at: number, managementType: FilterManagementType): { entity: 'device' | 'app'; rule: PropertyRule } {
  const dot = text.indexOf('.');
  const entity = dot === -1 ? '' : text.slice(0, dot).toLowerCase();
  const name = dot === -1 ? '' : text.slice(dot + 1).toLowerCase();
  const expected = managementType === 'devices' ? 'device' : 'app';
  const platform = FILTER_PLATFORM[managementType];
  if (entity !== expected) throw new RuleRefusal(at, `${text} is not a property of ${platform} filters (their properties are ${expected}.*)`);
  const known = (managementType === 'devices' ? DEVICE_PROPERTIES : APP_PROPERTIES).get(name);
  if (known !== undefined) return { entity: expected, rule: known };
  if ((managementType === 'devices' ? DEVICE_PROPERTIES_NOT_REPORTED : APP_PROPERTIES_NOT_REPORTED).has(name)) {
    throw new RuleRefusal(at, `${text} is not reported by a Windows MAM device: OpenMAM cannot evaluate it`);
  }
  throw new RuleRefusal(at, `${text} is not a property of ${platform} filters`);
}

/** The facts a rule is judged on, by property name as the parser returns it; null or absent = not reported. */
export type FilterSubject = Readonly<Record<string, string | null | undefined>>;

/** Whether the subject matches the rule (see the header for unknown values). */
export function evaluateFilterRule(rule: FilterRule, subject: FilterSubject): boolean {
  switch (rule.kind) {
    case 'and':
      return rule.operands.every((r) => evaluateFilterRule(r, subject));
    case 'or':
      return rule.operands.some((r) => evaluateFilterRule(r, subject));
    case 'clause': {
      const actual = subject[rule.property];
      if (actual === null || actual === undefined) return false;
      return compare(actual, rule.operator, rule.values);
    }
  }
}

function compare(actual: string, operator: FilterOperator, values: readonly string[]): boolean {
  const a = actual.toLowerCase();
  const first = values[0]!.toLowerCase();
  switch (operator) {
    case 'eq':
      return a === first;
    case 'ne':
      return a !== first;
    case 'startsWith':
      return a.startsWith(first);
    case 'contains':
      return a.includes(first);
    case 'notContains':
      return !a.includes(first);
    case 'in':
      return values.some((v) => v.toLowerCase() === a);
    case 'notIn':
      return !values.some((v) => v.toLowerCase() === a);
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      if (!VERSION.test(actual)) return false;
      const c = compareVersions(actual, values[0]!);
      return operator === 'gt' ? c > 0 : operator === 'ge' ? c >= 0 : operator === 'lt' ? c < 0 : c <= 0;
    }
  }
}

/** Dotted versions compared part by part as numbers; a missing part is 0 (`10.0` = `10.0.0.0`). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Parsed rules by text and management type: a planner or targeting pass parses each rule once. */
const parsedMemo = new Map<string, FilterRule | null>();
/** Rules are admin-written, a tenant has a few; past this many the memo starts again empty. */
export const MAX_MEMOIZED_RULES = 4096;

/** The parsed rule, or null when it no longer parses (stored before a change of the language: it matches nothing). */
export function memoizedRule(rule: string, managementType: FilterManagementType): FilterRule | null {
  const key = `${managementType}\u0000${rule}`;
  let parsed = parsedMemo.get(key);
  if (parsed === undefined) {
    try {
      parsed = parseFilterRule(rule, managementType);
    } catch {
      parsed = null;
    }
    if (parsedMemo.size >= MAX_MEMOIZED_RULES) parsedMemo.clear();
    parsedMemo.set(key, parsed);
  }
  return parsed;
}
