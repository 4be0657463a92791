/**
 * The ISO 8601 durations of app protection periods (`PT720M`, `P90D`, `PT0S`, `P1DT12H`) as milliseconds: days,
 * hours, minutes and seconds, as Graph uses them. Undefined for anything else.
 */
const DURATION = /^P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,3}))?S)?)?$/;

export function parseIsoDuration(text: string): number | undefined {
  if (text.length > 40 || text.endsWith('T')) return undefined;
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  const [, days, hours, minutes, seconds, fraction] = match;
  if (days === undefined && hours === undefined && minutes === undefined && seconds === undefined) return undefined;
  const ms =
    Number(days ?? 0) * 86_400_000 + Number(hours ?? 0) * 3_600_000 + Number(minutes ?? 0) * 60_000 + Number(seconds ?? 0) * 1000 + Number((fraction ?? '').padEnd(3, '0'));
  return Number.isSafeInteger(ms) ? ms : undefined;
}
