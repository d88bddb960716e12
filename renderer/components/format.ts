// Human-readable sizes, speeds, durations and dates for the UI (binary units, as file managers show).
const units = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(seconds: number | null, locale: string): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const zh = locale.startsWith('zh');
  const parts = zh
    ? [h ? `${h} 小时` : '', m ? `${m} 分` : '', !h ? `${sec} 秒` : '']
    : [h ? `${h} h` : '', m ? `${m} min` : '', !h ? `${sec} s` : ''];
  return parts.filter(Boolean).join(' ');
}

export function formatDate(iso: string | null, locale: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function hostOf(source: string): string {
  try {
    return new URL(source).host;
  } catch {
    return source.split(/[\\/]/).filter(Boolean).pop() ?? source;
  }
}

export function baseName(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).pop() ?? p;
}
