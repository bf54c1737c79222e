import type { PrismaClient, Prisma } from '../generated/prisma/client';

/** A client or an open transaction: repositories work on either. */
export type Db = PrismaClient | Prisma.TransactionClient;
export type Json = Prisma.InputJsonValue;

export function asJson(value: unknown): Json {
  return value as Json;
}
