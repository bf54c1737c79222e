/** 500 000 quota units make one US dollar (the gateway's QuotaPerUnit). */
export const QUOTA_PER_USD = 500_000;

/** The simulated token's balance in quota units. */
export class Balance {
  private usedQuota = 0;

  constructor(private grantedQuota: number) {}

  get granted(): number {
    return this.grantedQuota;
  }

  get used(): number {
    return this.usedQuota;
  }

  get available(): number {
    return Math.max(0, this.grantedQuota - this.usedQuota);
  }

  canAfford(units: number): boolean {
    return this.available >= units;
  }

  charge(units: number): void {
    this.usedQuota += units;
  }

  refund(units: number): void {
    this.usedQuota = Math.max(0, this.usedQuota - units);
  }

  reset(grantedQuota: number): void {
    this.grantedQuota = grantedQuota;
    this.usedQuota = 0;
  }
}
