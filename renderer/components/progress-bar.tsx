// A labelled progress bar with the ARIA the tests and screen readers use.
export function ProgressBar({ value, label, size = 'normal', tone = 'accent' }: { value: number; label: string; size?: 'normal' | 'large' | 'mini'; tone?: 'accent' | 'success' | 'danger' | 'muted' }) {
  const pct = Math.max(0, Math.min(100, Math.round(value * 1000) / 10));
  return (
    <div className={`progress progress-${size} progress-${tone}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(pct)}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
