// Results: every listed result in a virtualized table (10 000 rows stay smooth), with search,
// "only new", select all / none and the selection's totals.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { Connection, ResultRow } from '../../electron/core/contract.ts';
import { Badge } from '../components/badge.tsx';
import { displayName } from '../components/display-name.ts';
import { formatBytes, formatDate } from '../components/format.ts';
import { Icon } from '../components/icons.tsx';
import { useI18n } from '../i18n/i18n.tsx';

type SortKey = 'name' | 'size' | 'date' | null;

export interface ResultsScreenProps {
  connection: Connection;
  selected: ReadonlySet<string>;
  onlyNew: boolean;
  onOnlyNew(value: boolean): void;
  onSelect(next: Set<string>): void;
  onNext(): void;
}

const rowHeight = 44;

export function ResultsScreen({ connection, selected, onlyNew, onOnlyNew, onSelect, onNext }: ResultsScreenProps) {
  const { t, locale } = useI18n();
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: null, desc: false });
  const fetched = useMemo(() => new Set(connection.fetchedIds), [connection.fetchedIds]);

  const visible = useMemo(() => {
    const q = query.trim().toLowerCase();
    let rows = connection.items.filter((r) => (!onlyNew || !fetched.has(r.id)) && (!q || r.name.toLowerCase().includes(q) || r.params.toLowerCase().includes(q)));
    if (sort.key) {
      const key = sort.key;
      const value = (r: ResultRow) => (key === 'name' ? r.name : key === 'size' ? (r.size ?? -1) : (r.createdAt ?? ''));
      rows = [...rows].sort((a, b) => {
        const va = value(a);
        const vb = value(b);
        const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
        return sort.desc ? -c : c;
      });
    }
    return rows;
  }, [connection.items, query, onlyNew, fetched, sort]);

  const totals = useMemo(() => {
    let bytes = 0;
    for (const r of connection.items) if (selected.has(r.id)) bytes += r.size ?? 0;
    return { count: selected.size, bytes };
  }, [connection.items, selected]);

  const visibleSelected = useMemo(() => visible.filter((r) => selected.has(r.id)).length, [visible, selected]);
  const allVisibleSelected = visible.length > 0 && visibleSelected === visible.length;

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: visible.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 });

  const toggleAll = (on: boolean) => {
    const next = new Set(selected);
    for (const r of visible) on ? next.add(r.id) : next.delete(r.id);
    onSelect(next);
  };
  // Keyboard: the list is one Tab stop (not one per row: 263 presses to reach Next). Arrow keys,
  // Page Up/Down, Home and End move the current row; Space toggles it.
  const [current, setCurrent] = useState(0);
  const currentRow = Math.min(current, Math.max(0, visible.length - 1));
  const onListKey = (e: React.KeyboardEvent<HTMLDivElement>) => {
    if (visible.length === 0) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? rowHeight * 10) / rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -visible.length, End: visible.length };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(visible.length - 1, currentRow + moves[e.key]!));
      setCurrent(next);
      virtualizer.scrollToIndex(next);
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      toggle(visible[currentRow]!.id);
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    next.has(id) ? next.delete(id) : next.add(id);
    onSelect(next);
  };
  const ariaSort = (key: Exclude<SortKey, null>) => (sort.key !== key ? 'none' : sort.desc ? 'descending' : 'ascending');
  const header = (key: Exclude<SortKey, null>, label: string) => (
    <button type="button" className="th-sort" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}>
      {label}
      {sort.key === key && <span aria-hidden="true">{sort.desc ? ' ↓' : ' ↑'}</span>}
    </button>
  );

  return (
    <div className="screen screen-results">
      <header className="screen-header row-between">
        <div>
          <h1>{t('resultsTitle')}</h1>
          <p className="lead">
            <Badge tone="accent">{t(`kind_${connection.kind}`)}</Badge> {t('resultsLead', { count: connection.items.length, source: connection.source })}
          </p>
        </div>
      </header>
      <div className="toolbar">
        <label className="search">
          <Icon name="search" />
          <input type="search" aria-label={t('search')} placeholder={t('searchPlaceholder')} value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="check toggle">
          <input type="checkbox" checked={onlyNew} onChange={(e) => onOnlyNew(e.target.checked)} />
          {t('onlyNew')}
        </label>
        {/* All of them, not just the rows the search shows: hidden ones would still be downloaded. */}
        <button type="button" className="btn btn-ghost" onClick={() => onSelect(new Set())}>
          {t('selectNone')}
        </button>
        <span className="muted small toolbar-end">{t('showing', { shown: visible.length, total: connection.items.length })}</span>
      </div>
      <div className="table" role="table" aria-rowcount={visible.length + 1}>
        <div className="tr thead" role="row">
          <span className="td td-check" role="columnheader">
            <input type="checkbox" aria-label={t('selectAll')} checked={allVisibleSelected} ref={(el) => { if (el) el.indeterminate = visibleSelected > 0 && !allVisibleSelected; }} onChange={(e) => toggleAll(e.target.checked)} />
          </span>
          <span className="td td-name" role="columnheader" aria-sort={ariaSort('name')}>{header('name', t('colName'))}</span>
          <span className="td td-size" role="columnheader" aria-sort={ariaSort('size')}>{header('size', t('colSize'))}</span>
          <span className="td td-date" role="columnheader" aria-sort={ariaSort('date')}>{header('date', t('colDate'))}</span>
          <span className="td td-status" role="columnheader">{t('colStatus')}</span>
          <span className="td td-params" role="columnheader">{t('colParams')}</span>
        </div>
        <div className="tbody" ref={scrollRef} tabIndex={0} aria-label={t('resultsTitle')} aria-activedescendant={visible.length > 0 ? `row-${currentRow}` : undefined} onKeyDown={onListKey}>
          {visible.length === 0 && <p className="empty">{t('noMatches')}</p>}
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => {
              const r = visible[v.index]!;
              const on = selected.has(r.id);
              // As the server sent it, bidi and invisible characters shown (they could spoof the extension).
              const name = displayName(r.name);
              return (
                <div key={r.id} id={`row-${v.index}`} className={`tr ${on ? 'selected' : ''} ${v.index % 2 ? 'odd' : ''} ${v.index === currentRow ? 'current' : ''}`} role="row" aria-rowindex={v.index + 2} aria-selected={on} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${v.start}px)` }} onClick={(e) => { setCurrent(v.index); if ((e.target as HTMLElement).tagName !== 'INPUT') toggle(r.id); }}>
                  <span className="td td-check" role="cell">
                    <input type="checkbox" tabIndex={-1} aria-label={t('selectRow', { name })} checked={on} onChange={() => toggle(r.id)} />
                  </span>
                  <span className="td td-name" role="cell" title={name}>
                    <Icon name="film" className="file-icon" />
                    <span className="ellipsis">{name}</span>
                  </span>
                  <span className="td td-size num" role="cell">{formatBytes(r.size)}</span>
                  <span className="td td-date" role="cell">{formatDate(r.createdAt, locale)}</span>
                  <span className="td td-status" role="cell">
                    {fetched.has(r.id) ? <Badge tone="neutral">{t('statusFetched')}</Badge> : <Badge tone="success">{t('statusNew')}</Badge>}
                  </span>
                  <span className="td td-params ellipsis muted" role="cell" title={displayName(r.params)}>{displayName(r.params)}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <footer className="action-bar">
        <div className="totals">
          <strong>{t('selectionTotals', { count: totals.count, size: formatBytes(totals.bytes) })}</strong>
          {totals.count > visibleSelected && <span className="muted small">{t('selectedHidden', { count: totals.count - visibleSelected })}</span>}
          {connection.skipped.length > 0 && (
            <span className="muted small" title={connection.skipped.slice(0, 20).map((s) => `${displayName(s.name)}: ${s.reason}`).join('\n')}>
              <Icon name="alert" size={14} /> {t('skippedCount', { count: connection.skipped.length })}
            </span>
          )}
        </div>
        <button type="button" className="btn btn-primary btn-large" disabled={totals.count === 0} onClick={onNext}>
          {t('next')} <Icon name="download" />
        </button>
      </footer>
    </div>
  );
}
