/**
 * The ISO 8601 durations Graph uses for app protection periods (`PT720M`, `P90D`, `PT0S`, `P1DT12H`), as
 * milliseconds. Only fixed-length units are accepted: days, hours, minutes, seconds (fractions of a second to the
 * millisecond). Years and months have no fixed length and weeks are not part of Graph's Edm.Duration, so they are
 * refused, as are negative durations, lower-case designators, empty parts (`P`, `PT`, `P1DT`) and anything above
 * Number.MAX_SAFE_INTEGER milliseconds.
 */

export const MAX_DURATION_LENGTH = 40;

const DURATION = /^P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,3}))?S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds, or undefined when the text is not a fixed-length ISO 8601 duration. */
export function parseIsoDuration(text: string): number | undefined {
  if (text.length > MAX_DURATION_LENGTH) return undefined;
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  const [, days, hours, minutes, seconds, fraction] = match;
  if (days === undefined && hours === undefined && minutes === undefined && seconds === undefined) return undefined;
  // `P1DT` and `PT` carry a time designator with nothing after it.
  if (text.endsWith('T')) return undefined;
  const milliseconds =
    Number(days ?? 0) * DAY +
    Number(hours ?? 0) * HOUR +
    Number(minutes ?? 0) * MINUTE +
    Number(seconds ?? 0) * SECOND +
    Number((fraction ?? '').padEnd(3, '0'));
  return Number.isSafeInteger(milliseconds) ? milliseconds : undefined;
}
