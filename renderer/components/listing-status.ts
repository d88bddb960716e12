// "Listing results… 300 of 2400": a listing under way, on the Server screen (a connect) and on
// the Progress screen (a job listing its source again before it downloads).
import type { ListingCount } from '../../electron/core/contract.ts';
import type { Translate } from '../i18n/i18n.tsx';

export function listingStatus(t: Translate, listing: ListingCount | null): string {
  if (listing === null || (listing.found === 0 && listing.total === null)) return t('connecting');
  return listing.total === null ? t('listingFound', { found: listing.found }) : t('listingOf', { found: listing.found, total: listing.total });
}
