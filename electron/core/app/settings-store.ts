// User settings in <configDir>/settings.json: recent servers, last folder, locale.
// Tokens are kept only when a secret store (Electron safeStorage) can encrypt them.
import { jobDefaults } from '../jobs/job-defaults.ts';
import path from 'node:path';
import type { Locale, RecentServer, Settings } from '../contract.ts';
import type { SourceKind } from '../sources/source-types.ts';
import { readJsonFile, serialWriter } from './json-file.ts';

/** Encrypts secrets at rest (Electron's async safeStorage); absent in the browser host. */
export interface SecretStore {
  encrypt(plain: string): Promise<string>;
  decrypt(sealed: string): Promise<string>;
}

interface StoredSettings {
  recentServers: Omit<RecentServer, 'hasToken'>[];
  lastFolder: string | null;
  locale: Locale | null;
  concurrency: number;
  /** url → sealed token */
  tokens: Record<string, string>;
}

const maxRecent = 8;
const defaults: StoredSettings = { recentServers: [], lastFolder: null, locale: null, concurrency: jobDefaults.concurrency, tokens: {} };

export class SettingsStore {
  private data: StoredSettings = { ...defaults };
  private readonly write: (value: unknown) => Promise<void>;
  private readonly secrets: SecretStore | undefined;

  private constructor(configDir: string, secrets: SecretStore | undefined) {
    this.write = serialWriter(path.join(configDir, 'settings.json'));
    this.secrets = secrets;
  }

  static async open(configDir: string, secrets?: SecretStore): Promise<SettingsStore> {
    const store = new SettingsStore(configDir, secrets);
    const raw = await readJsonFile<Partial<StoredSettings>>(path.join(configDir, 'settings.json'), {});
    store.data = {
      recentServers: Array.isArray(raw.recentServers) ? raw.recentServers.filter((s) => typeof s?.url === 'string') : [],
      lastFolder: typeof raw.lastFolder === 'string' ? raw.lastFolder : null,
      locale: raw.locale === 'en' || raw.locale === 'zh-CN' ? raw.locale : null,
      concurrency: typeof raw.concurrency === 'number' && raw.concurrency >= 1 && raw.concurrency <= 16 ? raw.concurrency : jobDefaults.concurrency,
      tokens: raw.tokens && typeof raw.tokens === 'object' ? raw.tokens : {},
    };
    return store;
  }

  get(): Settings {
    return {
      recentServers: this.data.recentServers.map((s) => ({ ...s, hasToken: s.url in this.data.tokens })),
      lastFolder: this.data.lastFolder,
      locale: this.data.locale,
      concurrency: this.data.concurrency,
    };
  }

  get canRememberTokens(): boolean {
    return this.secrets !== undefined;
  }

  async rememberServer(entry: { url: string; kind: SourceKind; count: number; totalBytes: number }, token?: string): Promise<void> {
    const rest = this.data.recentServers.filter((s) => s.url !== entry.url);
    this.data.recentServers = [{ ...entry, lastUsed: new Date().toISOString() }, ...rest].slice(0, maxRecent);
    if (token && this.secrets) this.data.tokens[entry.url] = await this.secrets.encrypt(token);
    await this.save();
  }

  async forgetServer(url: string): Promise<void> {
    this.data.recentServers = this.data.recentServers.filter((s) => s.url !== url);
    delete this.data.tokens[url];
    await this.save();
  }

  async tokenFor(url: string): Promise<string | undefined> {
    const sealed = this.data.tokens[url];
    if (!sealed || !this.secrets) return undefined;
    try {
      return await this.secrets.decrypt(sealed);
    } catch {
      return undefined; // keychain changed: the user types it again
    }
  }

  async setLastFolder(folder: string): Promise<void> {
    this.data.lastFolder = folder;
    await this.save();
  }

  async setLocale(locale: Locale | null): Promise<void> {
    this.data.locale = locale;
    await this.save();
  }

  private save(): Promise<void> {
    return this.write(this.data);
  }
}
