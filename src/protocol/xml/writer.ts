/**
 * Output side of XML: messages are written from templates, and every value that came from outside passes through
 * `xmlText` / `xmlAttr`. Characters XML 1.0 cannot carry at all (most C0 controls) are dropped rather than written.
 */
const INVALID_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/** Most values (ids, URLs, numbers) need nothing: one scan decides, the replacements run only when needed. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_TEXT_ESCAPE = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ATTR_ESCAPE = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * A CR is written as a character reference: a literal one would reach the reader as LF (XML end-of-line handling).
 */
export function xmlText(value: string): string {
  if (!NEEDS_TEXT_ESCAPE.test(value)) return value;
  return value.replace(INVALID_XML_CHARS, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Tab and LF are written as character references too: a literal one would reach the reader as a space (attribute-value normalization). */
export function xmlAttr(value: string): string {
  if (!NEEDS_ATTR_ESCAPE.test(value)) return value;
  return xmlText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}
