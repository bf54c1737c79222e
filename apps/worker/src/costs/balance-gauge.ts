import { CostsRepository, type PrismaClient } from '@genqueue/db';

export type GatewayBalanceGauge = {
  /** US$ left on the gateway token at the last snapshot (quota units ÷ 500 000) */
  availableUsd: number | null;
  availableUnits: number | null;
  /** under GATEWAY_BALANCE_ALERT_USD at the last snapshot */
  isBelowAlert: boolean;
  takenAt: Date;
};

/**
 * The gateway balance gauge for /metrics (e.g. genqueue_gateway_balance_usd): the last snapshot any
 * worker took, read from Postgres at scrape time; null before the first snapshot.
 */
export async function readGatewayBalanceGauge(prisma: PrismaClient): Promise<GatewayBalanceGauge | null> {
  const last = await new CostsRepository(prisma).latestSnapshot();
  if (!last) return null;
  return {
    availableUsd: last.availableUsd,
    availableUnits: last.availableUnits === null ? null : Number(last.availableUnits),
    isBelowAlert: last.isBelowAlert,
    takenAt: last.takenAt,
  };
}
