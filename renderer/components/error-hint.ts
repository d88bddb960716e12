// What a user can do about an error, in their language, chosen by the error's stable code.
// The engine's messages are English and written for the log; the UI leads with the hint and
// shows the engine's message after it as the detail.
import type { ContractError } from '../../electron/core/contract.ts';
import type { MessageKey } from '../i18n/messages-en.ts';
import { messagesEn } from '../i18n/messages-en.ts';
import type { Translate } from '../i18n/i18n.tsx';

/** The localized hint for `error.code`, or null when there is none (the message stands alone). */
export function errorHint(t: Translate, error: Pick<ContractError, 'code'>): string | null {
  const key = `errorHint_${error.code}`;
  return key in messagesEn ? t(key as MessageKey) : null;
}
