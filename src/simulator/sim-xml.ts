/**
 * The device simulator's own XML: a tiny tokenizer and serializer for SyncML and SOAP, independent of the server's
 * reader (which is what the simulator tests). Strict about well-formedness (unbalanced tags, a bare `&`, an unknown
 * entity all throw, as a real device's parser would refuse them); tolerant about everything a device ignores:
 * namespace prefixes (names are matched by local name), namespace declarations such as `syncml:metinf`, whitespace,
 * comments, processing instructions, a DOCTYPE and CDATA.
 */

export interface SimElement {
  /** Local name (prefix stripped). */
  name: string;
  /** The prefix as written, '' when none. */
  prefix: string;
  /** Attributes by qualified name as written, values decoded. */
  attributes: Record<string, string>;
  children: SimElement[];
  /** The element's own character data (text and CDATA directly inside it, in order), decoded, untrimmed. */
  text: string;
  /** The raw source between the start and end tag ('' for an empty element). */
  inner: string;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, at: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&<>\s]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`malformed XML near offset ${at}: bare '&' (unescaped ampersand)`);
    if (body.startsWith('#x') || body.startsWith('#X')) {
      const code = Number.parseInt(body.slice(2), 16);
      if (!/^#[xX][0-9a-fA-F]+$/.test(body) || code > 0x10ffff) throw new Error(`malformed XML near offset ${at}: bad character reference &${body};`);
      return String.fromCodePoint(code);
    }
    if (body.startsWith('#')) {
      const code = Number.parseInt(body.slice(1), 10);
      if (!/^#[0-9]+$/.test(body) || code > 0x10ffff) throw new Error(`malformed XML near offset ${at}: bad character reference &${body};`);
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[body];
    if (named === undefined) throw new Error(`malformed XML near offset ${at}: unknown entity &${body};`);
    return named;
  });
}

function splitName(qualified: string): { prefix: string; name: string } {
  const colon = qualified.indexOf(':');
  return colon < 0 ? { prefix: '', name: qualified } : { prefix: qualified.slice(0, colon), name: qualified.slice(colon + 1) };
}

const START_TAG = /<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/g;
const END_TAG = /<\/([A-Za-z_][\w.:-]*)\s*>/y;

/** Parses one XML document and returns its root element. Throws on anything not well-formed. */
export function parseSimXml(source: string): SimElement {
  // XML end-of-line handling: CRLF and lone CR reach the application as LF.
  const xml = source.replace(/\r\n?/g, '\n');
  const stack: { element: SimElement; innerStart: number; qualified: string }[] = [];
  let root: SimElement | undefined;
  let i = 0;
  const appendText = (text: string): void => {
    const top = stack.at(-1);
    if (top) top.element.text += text;
    else if (text.trim() !== '') throw new Error(`malformed XML near offset ${i}: text outside the root element`);
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt !== i) {
      const end = lt < 0 ? xml.length : lt;
      appendText(decodeEntities(xml.slice(i, end), i));
      i = end;
      continue;
    }
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end < 0) throw new Error(`malformed XML near offset ${i}: unterminated processing instruction`);
      i = end + 2;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) throw new Error(`malformed XML near offset ${i}: unterminated comment`);
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0) throw new Error(`malformed XML near offset ${i}: unterminated CDATA section`);
      if (stack.length === 0) throw new Error(`malformed XML near offset ${i}: CDATA outside the root element`);
      appendText(xml.slice(i + 9, end));
      i = end + 3;
    } else if (xml.startsWith('<!DOCTYPE', i)) {
      const bracket = xml.indexOf('[', i);
      const close = xml.indexOf('>', i);
      const end = bracket >= 0 && bracket < close ? xml.indexOf(']>', bracket) + 1 : close;
      if (end <= 0) throw new Error(`malformed XML near offset ${i}: unterminated DOCTYPE`);
      i = end + 1;
    } else if (xml.startsWith('</', i)) {
      END_TAG.lastIndex = i;
      const match = END_TAG.exec(xml);
      if (!match) throw new Error(`malformed XML near offset ${i}: bad end tag`);
      const top = stack.pop();
      if (!top || top.qualified !== match[1]) throw new Error(`malformed XML near offset ${i}: </${match[1]}> does not close <${top?.qualified ?? '(nothing)'}>`);
      top.element.inner = xml.slice(top.innerStart, i);
      i += match[0].length;
      if (stack.length === 0) root = top.element;
    } else {
      START_TAG.lastIndex = i;
      const match = START_TAG.exec(xml);
      if (!match) throw new Error(`malformed XML near offset ${i}: bad start tag`);
      if (root !== undefined) throw new Error(`malformed XML near offset ${i}: more than one root element`);
      const qualified = match[1]!;
      const attributes: Record<string, string> = {};
      for (const attribute of match[2]!.matchAll(ATTRIBUTE)) {
        const attrName = attribute[1]!;
        if (attrName in attributes) throw new Error(`malformed XML near offset ${i}: duplicate attribute ${attrName}`);
        attributes[attrName] = decodeEntities(attribute[2] ?? attribute[3] ?? '', i);
      }
      const element: SimElement = { ...splitName(qualified), attributes, children: [], text: '', inner: '' };
      stack.at(-1)?.element.children.push(element);
      i += match[0].length;
      if (match[3] === '/') {
        if (stack.length === 0) root = element;
      } else {
        stack.push({ element, innerStart: i, qualified });
      }
    }
  }
  if (stack.length > 0) throw new Error(`malformed XML: <${stack.at(-1)!.qualified}> is never closed`);
  if (!root) throw new Error('malformed XML: no root element');
  return root;
}

/** The first child element with this local name. */
export function child(element: SimElement | undefined, name: string): SimElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** The child elements with this local name (all of them when no name is given). */
export function children(element: SimElement | undefined, name?: string): SimElement[] {
  if (!element) return [];
  return name === undefined ? element.children : element.children.filter((c) => c.name === name);
}

/** Follows a path of local names, e.g. childAt(item, 'Target', 'LocURI'). */
export function childAt(element: SimElement | undefined, ...names: string[]): SimElement | undefined {
  let current = element;
  for (const name of names) current = child(current, name);
  return current;
}

/** The trimmed text of the element at the path, or undefined when it is absent. */
export function textAt(element: SimElement | undefined, ...names: string[]): string | undefined {
  return childAt(element, ...names)?.text.trim();
}

/** The first element with this local name, depth first (the element itself included). */
export function findFirst(element: SimElement, name: string): SimElement | undefined {
  if (element.name === name) return element;
  for (const c of element.children) {
    const hit = findFirst(c, name);
    if (hit) return hit;
  }
  return undefined;
}

// Characters XML 1.0 cannot carry at all are dropped rather than written.
const INVALID_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes character data. CR goes out as a character reference, or the reader would see LF. */
export function escapeText(value: string): string {
  return value.replace(INVALID_XML_CHARS, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Escapes an attribute value (for double quotes). */
export function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

/** Already-serialized XML, passed through `el` unchanged. */
export interface RawXml {
  readonly raw: string;
}

export function raw(xml: string): RawXml {
  return { raw: xml };
}

type Content = string | RawXml | undefined | false | readonly Content[];

function serialize(content: Content): string {
  if (content === undefined || content === false) return '';
  if (typeof content === 'string') return escapeText(content);
  if ('raw' in content) return content.raw;
  return (content as readonly Content[]).map(serialize).join('');
}

/**
 * Serializes one element. Strings are escaped as text, RawXml (e.g. another `el`) is inserted as is, undefined/false
 * are skipped and arrays are flattened. No content gives an empty element `<name/>`.
 */
export function el(name: string, attributes: Record<string, string> | undefined, ...content: Content[]): RawXml {
  const attrs = Object.entries(attributes ?? {})
    .map(([key, value]) => ` ${key}="${escapeAttribute(value)}"`)
    .join('');
  const body = serialize(content);
  return raw(content.length === 0 ? `<${name}${attrs}/>` : `<${name}${attrs}>${body}</${name}>`);
}
