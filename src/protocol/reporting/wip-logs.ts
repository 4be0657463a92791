import { parseXml, type XmlElement } from '../xml/reader.ts';

/**
 * The log XML as entries. Windows does not document the schema of the Logs node, so this reads it structurally:
 * every element whose siblings repeat its name is a record, and a record's attributes and child elements' text are
 * its fields. Unreadable XML yields no entries (the raw text is kept with the request).
 */
export function parseWipLogs(xml: string): Record<string, string>[] {
  if (xml.trim() === '') return [];
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch {
    return [];
  }
  const entries: Record<string, string>[] = [];
  const visit = (element: XmlElement): void => {
    const counts = new Map<string, number>();
    for (const child of element.children) counts.set(child.local, (counts.get(child.local) ?? 0) + 1);
    for (const child of element.children) {
      const isRecord = (counts.get(child.local) ?? 0) > 1 || (element !== root && child.children.length > 0 && child.children.every((c) => c.children.length === 0));
      if (isRecord && child.children.every((c) => c.children.length === 0)) entries.push(fieldsOf(child));
      else visit(child);
    }
  };
  visit(root);
  return entries;
}

function fieldsOf(element: XmlElement): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const attribute of element.attributes) fields[attribute.local] = attribute.value;
  for (const child of element.children) fields[child.local] = child.text.trim();
  if (element.children.length === 0 && element.text.trim() !== '') fields['value'] = element.text.trim();
  return fields;
}
