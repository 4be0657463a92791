/** Lines of a textarea as a list: trimmed, blank lines dropped (the server judges the rest). */
export function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}
