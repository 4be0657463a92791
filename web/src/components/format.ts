/** Dates as an admin reads them: the browser's locale and time zone. */
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) || date.getTime() <= 0 ? '—' : DATE_TIME.format(date);
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS: readonly [Intl.RelativeTimeFormatUnit, number][] = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity]];

export function formatRelative(value: string | number | null | undefined, now = Date.now()): string {
  if (value === null || value === undefined || value === '') return 'never';
  const time = new Date(value).getTime();
  if (Number.isNaN(time) || time <= 0) return 'never';
  let amount = (time - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return RELATIVE.format(Math.round(amount), unit);
    amount /= size;
  }
  return DATE_TIME.format(new Date(time));
}

export function formatCount(value: number | undefined): string {
  return value === undefined ? '—' : value.toLocaleString();
}
