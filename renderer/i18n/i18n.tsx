// Picks the UI language: the user's choice, else the OS/browser locale; switchable at run time.
import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';
import type { Locale } from '../../electron/core/contract.ts';
import { messagesEn } from './messages-en.ts';
import type { MessageKey } from './messages-en.ts';
import { messagesZhCn } from './messages-zh-cn.ts';

const catalogs: Record<Locale, Record<MessageKey, string>> = { en: messagesEn, 'zh-CN': messagesZhCn };

export function detectLocale(preferred: readonly string[]): Locale {
  return preferred.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const catalog = catalogs[locale];
  return (key, values) => {
    const text = catalog[key] ?? messagesEn[key] ?? key;
    return values ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in values ? String(values[name]) : m)) : text;
  };
}

interface I18n {
  locale: Locale;
  t: Translate;
}
const I18nContext = createContext<I18n>({ locale: 'en', t: translator('en') });

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  return <I18nContext.Provider value={{ locale, t: translator(locale) }}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}
