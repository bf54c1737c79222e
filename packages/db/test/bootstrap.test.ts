import { ApiKeysRepository, ensureBootstrap } from '../src';
import { useMigratedDatabase } from './repository-fixtures';

/** First start and the ADMIN_API_KEY setting over later starts, against a real database. */
describe('ensureBootstrap', () => {
  const prisma = useMigratedDatabase('genqueue_test_bootstrap', 2);
  const keys = () => new ApiKeysRepository(prisma);

  it('makes the default project and its key once, and an admin key only when none is configured', async () => {
    const first = await ensureBootstrap(prisma);
    expect(first.createdProjectKey).toMatch(/^gq_/);
    expect(first.createdAdminKey).toMatch(/^gqa_/);
    const second = await ensureBootstrap(prisma);
    expect(second).toMatchObject({ projectId: first.projectId, createdProjectKey: null, createdAdminKey: null });
  });

  it('a changed ADMIN_API_KEY revokes the key it replaces, and a revoked one is never made valid again', async () => {
    const oldKey = 'gqa_configured_old_0123456789';
    const newKey = 'gqa_configured_new_0123456789';
    await ensureBootstrap(prisma, oldKey);
    expect(await keys().findActiveByKey(oldKey)).not.toBeNull();
    const changed = await ensureBootstrap(prisma, newKey);
    expect(changed.replacedAdminKeys).toBe(1);
    expect(await keys().findActiveByKey(oldKey)).toBeNull();
    expect(await keys().findActiveByKey(newKey)).not.toBeNull();
    // the first-start admin key of the other test is not a configured one: it stays
    expect(await keys().countActive('admin')).toBe(2);

    // an operator revokes the configured key; a restart with the same setting does not revive it
    const record = await keys().findByKeyHash(newKey);
    await keys().revoke(record!.id);
    const restarted = await ensureBootstrap(prisma, newKey);
    expect(restarted.configuredAdminKeyRevoked).toBe(true);
    expect(await keys().findActiveByKey(newKey)).toBeNull();
    // and going back to the first setting does not revive that one either
    expect((await ensureBootstrap(prisma, oldKey)).configuredAdminKeyRevoked).toBe(true);
    expect(await keys().findActiveByKey(oldKey)).toBeNull();
  });
});
