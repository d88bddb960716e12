// State badges: one colour per state family so a glance tells how a batch is doing.
import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'info' | 'progress' | 'warn' | 'success' | 'danger' | 'accent';

export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}
