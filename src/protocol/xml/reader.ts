import { SaxesParser } from 'saxes';

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

export function parseXml(source: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  // Position tracking costs ~15% of a parse; the error message without line and column is enough for a refusal.
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let textLength = 0;
  let failure: XmlError | undefined;

  const fail = (message: string): never => {
    throw new XmlError(message);
  };
  const appendText = (text: string): void => {
    textLength += text.length;
    if (textLength > limits.maxTextLength) fail(`XML text exceeds ${limits.maxTextLength} characters`);
    const current = stack[stack.length - 1];
    if (current) current.text += text;
    else if (text.trim() !== '') fail('text outside the root element');
  };

  parser.on('error', (error) => {
    // saxes reports well-formedness errors (including undefined entities) here; stop at the first.
    failure ??= new XmlError(error.message);
    throw failure;
  });
  parser.on('doctype', () => fail('DOCTYPE is not allowed'));
  parser.on('opentag', (tag) => {
    elements += 1;
    if (elements > limits.maxElements) fail(`XML has more than ${limits.maxElements} elements`);
    if (stack.length >= limits.maxDepth) fail(`XML is nested deeper than ${limits.maxDepth} levels`);
    const attributes: XmlAttribute[] = [];
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.prefix === 'xmlns' || attribute.name === 'xmlns') continue;
      attributes.push({ ns: attribute.uri, local: attribute.local, value: attribute.value });
    }
    const element: XmlElement = { ns: tag.uri, local: tag.local, attributes, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root) fail('more than one root element');
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', appendText);
  parser.on('cdata', appendText);

  try {
    parser.write(source).close();
  } catch (error) {
    if (error instanceof XmlError) throw error;
    throw new XmlError(error instanceof Error ? error.message : String(error));
  }
  if (!root) throw new XmlError('no root element');
  return root;
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
