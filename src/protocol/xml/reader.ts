import { SaxesParser, type SaxesAttributePlain, type SaxesTagPlain } from 'saxes';

/**
 * The one XML reader of OpenMAM: strict, namespace-aware, and hostile-input safe. Devices and gateways send XML we
 * did not write, so the reader refuses DOCTYPEs outright (no DTD means no external entities and no entity expansion:
 * XXE and "billion laughs" cannot start), knows only the five predefined entities, and bounds depth, element count
 * and text size. It builds a small element tree; protocol codecs read typed messages out of it.
 */
export interface XmlElement {
  /** Namespace URI ('' for none). */
  readonly ns: string;
  readonly local: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: XmlElement[];
  /** Concatenated character data (text and CDATA) directly inside this element, untrimmed. */
  text: string;
}

export interface XmlAttribute {
  readonly ns: string;
  readonly local: string;
  readonly value: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
  /** Characters of text across the whole document. */
  maxTextLength: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 40, maxElements: 5_000, maxTextLength: 4_000_000 };

export class XmlError extends Error {
  override readonly name = 'XmlError';
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const COLON = 0x3a;

/*
 * saxes runs without its own namespace processing (`xmlns: false`): it is ~20% of a parse, mostly spent on objects
 * and prefix lookups through every ancestor for each tag. The reader resolves names itself with the same rules, which
 * costs almost nothing when, as in SyncML, elements declare nothing: QNames are checked (one colon, neither side
 * empty), a prefix must be in scope (`xml` always is), `xmlns` cannot prefix an element, declarations may not rebind
 * `xml` or use the xml/xmlns namespace URIs, XML 1.0 cannot undeclare a prefix, two attributes may not share an
 * expanded name, and processing-instruction targets may not contain a colon. The default namespace applies to
 * elements only; declarations are not reported as attributes; namespace names are trimmed, as saxes does.
 *
 * The handlers are module functions rather than closures made per parse, so they work on module state: parseXml is
 * synchronous and nothing it calls can call it back, so one parse at a time uses it, and parseXml resets it.
 *
 * Keep to at most seven handlers: saxes stores each one as a new property of the parser through `parser[name] = f`,
 * and V8 turns an object that gains more than a few properties that way into a dictionary; every parser field access
 * is then a hash lookup and a parse gets about four times slower.
 */
type Parser = SaxesParser<{ xmlns: false; position: false }>;

let parser: Parser | undefined;
let limits: XmlLimits = DEFAULT_XML_LIMITS;
let root: XmlElement | undefined;
/** The open elements, outermost first; `current` is the last. */
const open: XmlElement[] = [];
let current: XmlElement | undefined;
let elements = 0;
let textLength = 0;
/** Attributes of the tag being read, in document order; the `attribute` event fills them before `opentag`. */
const attributeNames: string[] = [];
const attributeValues: string[] = [];
let attributeCount = 0;
/** Namespaces in scope: the default one, and the bound prefixes. */
let defaultNamespace = '';
const prefixes = new Map<string, string>([['xml', XML_NAMESPACE]]);
/** How to undo each declaration when its element closes: the element's depth, the prefix ('' for the default), and
 * the namespace it had before (undefined when unbound). Most elements declare nothing and push nothing. */
const undoDepth: number[] = [];
const undoPrefix: string[] = [];
const undoNamespace: (string | undefined)[] = [];

function fail(message: string): never {
  throw new XmlError(message);
}

/** The position of the colon of a QName, -1 if it has none; refuses `:a`, `a:` and `a:b:c`. */
function colonOf(name: string): number {
  const colon = name.indexOf(':');
  if (colon !== -1 && (colon === 0 || colon === name.length - 1 || name.includes(':', colon + 1))) {
    fail(`malformed name: ${name}.`);
  }
  return colon;
}

function declare(prefix: string, value: string, depth: number): void {
  const namespace = value.trim();
  if (prefix === '') {
    if (namespace === XML_NAMESPACE || namespace === XMLNS_NAMESPACE) {
      fail(`the default namespace may not be set to ${namespace}.`);
    }
    undoDepth.push(depth);
    undoPrefix.push('');
    undoNamespace.push(defaultNamespace);
    defaultNamespace = namespace;
    return;
  }
  if (namespace === '') {
    // XML 1.1 may undeclare a prefix (it is then unbound again); XML 1.0 may not.
    const version = parser?.xmlDecl.version;
    if (version === undefined || version === '1.0') fail('invalid attempt to undefine prefix in XML 1.0');
  }
  if (prefix === 'xml' && namespace !== XML_NAMESPACE) fail(`xml prefix must be bound to ${XML_NAMESPACE}.`);
  if (prefix === 'xmlns' && namespace !== XMLNS_NAMESPACE) fail(`xmlns prefix must be bound to ${XMLNS_NAMESPACE}.`);
  if (namespace === XMLNS_NAMESPACE) fail(`may not assign a prefix (even "xmlns") to the URI ${XMLNS_NAMESPACE}.`);
  if (namespace === XML_NAMESPACE && prefix !== 'xml') fail('may not assign the xml namespace to another prefix.');
  undoDepth.push(depth);
  undoPrefix.push(prefix);
  undoNamespace.push(prefixes.get(prefix));
  if (namespace === '') prefixes.delete(prefix);
  else prefixes.set(prefix, namespace);
}

function resolve(prefix: string): string {
  const namespace = prefixes.get(prefix);
  if (namespace === undefined) fail(`unbound namespace prefix: ${JSON.stringify(prefix)}.`);
  return namespace;
}

/** Declarations first (they apply to the element's own name and attributes), then the other attributes. */
function readAttributes(depth: number): XmlAttribute[] {
  const attributes: XmlAttribute[] = [];
  const count = attributeCount;
  if (count === 0) return attributes;
  attributeCount = 0;
  let others = 0;
  for (let i = 0; i < count; i += 1) {
    const name = attributeNames[i]!;
    if (name.startsWith('xmlns')) {
      if (name.length === 5) {
        declare('', attributeValues[i]!, depth);
        continue;
      }
      if (name.charCodeAt(5) === COLON) {
        colonOf(name);
        declare(name.slice(6), attributeValues[i]!, depth);
        continue;
      }
    }
    others += 1;
  }
  if (others === 0) return attributes;
  let seen: Set<string> | undefined;
  for (let i = 0; i < count; i += 1) {
    const name = attributeNames[i]!;
    const colon = colonOf(name);
    if (colon === -1) {
      // saxes refuses two attributes with the same name; an unprefixed one has no namespace.
      if (name !== 'xmlns') attributes.push({ ns: '', local: name, value: attributeValues[i]! });
      continue;
    }
    const prefix = name.slice(0, colon);
    if (prefix === 'xmlns') continue;
    const ns = resolve(prefix);
    const local = name.slice(colon + 1);
    const expanded = `{${ns}}${local}`;
    seen ??= new Set();
    if (seen.has(expanded)) fail(`duplicate attribute: ${expanded}.`);
    seen.add(expanded);
    attributes.push({ ns, local, value: attributeValues[i]! });
  }
  return attributes;
}

function onAttribute(attribute: SaxesAttributePlain): void {
  attributeNames[attributeCount] = attribute.name;
  attributeValues[attributeCount] = attribute.value;
  attributeCount += 1;
}

function onOpenTag(tag: SaxesTagPlain): void {
  elements += 1;
  if (elements > limits.maxElements) fail(`XML has more than ${limits.maxElements} elements`);
  const depth = open.length + 1;
  if (depth > limits.maxDepth) fail(`XML is nested deeper than ${limits.maxDepth} levels`);
  const attributes = readAttributes(depth);
  const name = tag.name;
  const colon = colonOf(name);
  let ns = defaultNamespace;
  let local = name;
  if (colon !== -1) {
    const prefix = name.slice(0, colon);
    if (prefix === 'xmlns') fail('tags may not have "xmlns" as prefix.');
    ns = resolve(prefix);
    local = name.slice(colon + 1);
  }
  const element: XmlElement = { ns, local, attributes, children: [], text: '' };
  if (current) current.children.push(element);
  else if (root) fail('more than one root element');
  else root = element;
  open.push(element);
  current = element;
}

function onCloseTag(): void {
  const depth = open.length;
  open.pop();
  current = open[depth - 2];
  while (undoDepth.length !== 0 && undoDepth[undoDepth.length - 1] === depth) {
    undoDepth.pop();
    const prefix = undoPrefix.pop()!;
    const previous = undoNamespace.pop();
    if (prefix === '') defaultNamespace = previous!;
    else if (previous === undefined) prefixes.delete(prefix);
    else prefixes.set(prefix, previous);
  }
}

function onText(text: string): void {
  textLength += text.length;
  if (textLength > limits.maxTextLength) fail(`XML text exceeds ${limits.maxTextLength} characters`);
  if (current) current.text += text;
  else if (text.trim() !== '') fail('text outside the root element');
}

function onDoctype(): void {
  fail('DOCTYPE is not allowed');
}

function onProcessingInstruction({ target }: { target: string }): void {
  if (target.includes(':')) fail('disallowed character in processing instruction name.');
}

export function parseXml(source: string, parseLimits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  // Position tracking costs ~15% of a parse; the error message without line and column is enough for a refusal.
  // Without an error handler saxes throws its first well-formedness error (including undefined entities).
  const active: Parser = new SaxesParser({ xmlns: false, position: false });
  active.on('doctype', onDoctype);
  active.on('processinginstruction', onProcessingInstruction);
  active.on('attribute', onAttribute);
  active.on('opentag', onOpenTag);
  active.on('closetag', onCloseTag);
  active.on('text', onText);
  active.on('cdata', onText);
  parser = active;
  limits = parseLimits;
  root = undefined;
  current = undefined;
  open.length = 0;
  elements = 0;
  textLength = 0;
  attributeCount = 0;
  try {
    active.write(source).close();
    if (!root) throw new XmlError('no root element');
    return root;
  } catch (error) {
    if (error instanceof XmlError) throw error;
    throw new XmlError(error instanceof Error ? error.message : String(error));
  } finally {
    // Forget the document, and the namespaces in scope where a refusal stopped the parse.
    parser = undefined;
    root = undefined;
    current = undefined;
    open.length = 0;
    attributeNames.length = 0;
    attributeValues.length = 0;
    attributeCount = 0;
    defaultNamespace = '';
    if (undoDepth.length !== 0) {
      undoDepth.length = 0;
      undoPrefix.length = 0;
      undoNamespace.length = 0;
      prefixes.clear();
      prefixes.set('xml', XML_NAMESPACE);
    }
  }
}

/** The first child element with this namespace and local name. */
export function childElement(parent: XmlElement, ns: string, local: string): XmlElement | undefined {
  return parent.children.find((c) => c.local === local && c.ns === ns);
}

export function childElements(parent: XmlElement, ns: string, local: string): XmlElement[] {
  return parent.children.filter((c) => c.local === local && c.ns === ns);
}

/** An attribute by local name; unqualified attributes have namespace ''. */
export function attributeValue(element: XmlElement, local: string, ns = ''): string | undefined {
  return element.attributes.find((a) => a.local === local && a.ns === ns)?.value;
}

/** Follows a path of (namespace, local) steps from `start`, first match at each step. */
export function descend(start: XmlElement, ...steps: ReadonlyArray<readonly [string, string]>): XmlElement | undefined {
  let current: XmlElement | undefined = start;
  for (const [ns, local] of steps) {
    if (!current) return undefined;
    current = childElement(current, ns, local);
  }
  return current;
}
