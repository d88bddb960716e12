// Why a file failed, in the user's language, from its kind (ErrorCode) and the server's HTTP
// status. The engine's message is English, written for the log: the screens show it as the
// detail, and alone only when the failure has no code (or a code without wording here).
import type { FileRow } from '../../electron/core/contract.ts';
import type { MessageKey } from '../i18n/messages-en.ts';
import type { Translate } from '../i18n/i18n.tsx';

export interface Failure {
  reason: string | null | undefined;
  code: FileRow['reasonCode'] | undefined;
  httpStatus: number | null | undefined;
}

const byCode: Partial<Record<NonNullable<FileRow['reasonCode']>, MessageKey>> = {
  NETWORK: 'reason_NETWORK',
  STALLED: 'reason_STALLED',
  CHECKSUM_MISMATCH: 'reason_CHECKSUM_MISMATCH',
  SIZE_MISMATCH: 'reason_SIZE_MISMATCH',
  STILL_WRITING: 'reason_STILL_WRITING',
  BAD_RESPONSE: 'reason_BAD_RESPONSE',
  BAD_REDIRECT: 'reason_BAD_REDIRECT',
  WRITE_FAILED: 'reason_WRITE_FAILED',
  DISK_FULL: 'reason_DISK_FULL',
  ACCESS_DENIED: 'reason_ACCESS_DENIED',
};

/** Whether a file came from a local or mounted folder (its "404" is a file gone from the folder). */
export function isLocalSource(source: string | null | undefined): boolean {
  return typeof source === 'string' && source !== '' && !/^https?:\/\//i.test(source);
}

/**
 * The short localized reason. `local`: the file is read from a folder, where the engine reports
 * a file gone as 404 and one it may not read as 403 (download/local-file.ts).
 */
export function failureReason(t: Translate, f: Failure, local = false): string {
  const status = f.httpStatus ?? null;
  if (f.code === 'HTTP_STATUS') {
    if (status === null) return t('reason_httpError');
    if (local && status === 404) return t('reason_localGone');
    if (local && status === 403) return t('reason_localDenied');
    if (status === 404 || status === 410) return t('reason_notFound', { status });
    if (status === 401 || status === 403) return t('reason_denied', { status });
    if (status === 429) return t('reason_busy', { status });
    if (status >= 500) return t('reason_serverError', { status });
    return t('reason_httpStatus', { status });
  }
  const key = f.code ? byCode[f.code] : undefined;
  if (key) return t(key);
  return f.reason || '?';
}
