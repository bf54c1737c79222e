import type { Redis } from 'ioredis';

/**
 * Weighted fair sharing of a lane between projects, through BullMQ priorities.
 *
 * Each job gets a virtual finish time at enqueue: `max(its project's last finish, the lane's virtual
 * time) + 1 / weight`, in units of one weight-1 job. Jobs start in finish-time order, so a project
 * that trickles lands just behind the lane's head while a flood's backlog sits far behind it, and
 * while several projects are backlogged each starts jobs in proportion to its weight. The lane's
 * virtual time is the finish time of the job at the head of the queue (read from BullMQ's
 * prioritized set at every enqueue): an idle project has no credit saved up, and a project that used
 * the lane alone owes nothing once the lane drains.
 *
 * The user priority stays a strict band: priority 1 jobs go before priority 2 jobs of any project;
 * sharing holds within a band.
 */

/** WARNING: persisted: BullMQ priorities are `band * FAIR_BAND + 1 + finish time`, and BullMQ's limit is 2^21 - 1. */
export const FAIR_BAND = Math.floor((2 ** 21 - 1) / 10);

/** A band's virtual time restarts from 0 once it passed this and the band's queue is empty. */
const RESTART_AFTER = Math.floor(FAIR_BAND / 2);

/** WARNING: persisted: the hash of a lane's virtual times (in the queue's own slot: `queuePrefix`). */
export const fairShareKey = (queuePrefixValue: string): string => `${queuePrefixValue}:fair-share`;

/**
 * KEYS[1] the lane's hash, KEYS[2] BullMQ's prioritized set of the queue (one slot: both carry the
 * queue's hash tag). ARGV: band size, restart threshold, then (project id, band 0..9, weight) per job.
 * Fields: v:<band> virtual time, ep:<band> epoch, m:<band> the largest finish time given,
 * f:<band>:<project> "<epoch>:<finish>". Answers one BullMQ priority per job.
 */
const ASSIGN_LUA = `
local key = KEYS[1]
local bandSize = tonumber(ARGV[1])
local restartAfter = tonumber(ARGV[2])
local span = 4294967296
local lanes = {}
local function band(b)
  local st = lanes[b]
  if st then return st end
  local v = tonumber(redis.call('HGET', key, 'v:' .. b) or '0')
  local ep = tonumber(redis.call('HGET', key, 'ep:' .. b) or '0')
  local m = tonumber(redis.call('HGET', key, 'm:' .. b) or '0')
  local lo = b * bandSize + 1
  local head = redis.call('ZRANGEBYSCORE', KEYS[2], lo * span, '(' .. ((lo + bandSize) * span), 'WITHSCORES', 'LIMIT', 0, 1)
  if #head > 0 then
    -- the head's finish time is where the lane is now
    local headTag = math.floor(tonumber(head[2]) / span) - lo
    if headTag > v then v = headTag end
  else
    -- nothing waits in the band: every finish time given has been reached
    if m > v then v = m end
    if v > restartAfter then
      ep = ep + 1
      v = 0
      m = 0
    end
  end
  st = { v = v, ep = ep, m = m, lo = lo }
  lanes[b] = st
  return st
end
local out = {}
for i = 3, #ARGV, 3 do
  local project = ARGV[i]
  local b = tonumber(ARGV[i + 1])
  local weight = tonumber(ARGV[i + 2])
  local st = band(b)
  local field = 'f:' .. b .. ':' .. project
  local last = 0
  local raw = redis.call('HGET', key, field)
  if raw then
    local sep = string.find(raw, ':', 1, true)
    if tonumber(string.sub(raw, 1, sep - 1)) == st.ep then last = tonumber(string.sub(raw, sep + 1)) end
  end
  local finish = math.max(last, st.v) + 1 / weight
  redis.call('HSET', key, field, st.ep .. ':' .. finish)
  if finish > st.m then st.m = finish end
  local tag = math.floor(finish + 1e-9)
  if tag > bandSize - 1 then tag = bandSize - 1 end
  out[#out + 1] = st.lo + tag
end
for b, st in pairs(lanes) do
  redis.call('HSET', key, 'v:' .. b, st.v, 'ep:' .. b, st.ep, 'm:' .. b, st.m)
end
return out
`;

export type FairShareJob = { projectId: string; /** 1 highest .. 10 */ priority: number; weight: number };

/** A project's `limits.weight`: positive, 1 when unset or not a number. */
export function normalizedWeight(weight: unknown): number {
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 1;
}

/** The user priority's band (0..9); out of range values are clamped (the API accepts 1..10). */
function bandOf(priority: number): number {
  return Math.min(9, Math.max(0, Math.round(priority) - 1));
}

/** The BullMQ priorities of jobs about to be added to one queue, in order (one round trip). */
export async function assignFairPriorities(redis: Redis, queuePrefixValue: string, queueName: string, jobs: readonly FairShareJob[]): Promise<number[]> {
  if (jobs.length === 0) return [];
  const args: Array<string | number> = [FAIR_BAND, RESTART_AFTER];
  for (const job of jobs) args.push(job.projectId, bandOf(job.priority), normalizedWeight(job.weight));
  const out = await withAssignCommand(redis).gqFairAssign(fairShareKey(queuePrefixValue), `${queuePrefixValue}:${queueName}:prioritized`, ...args);
  return out.map(Number);
}

type AssignCommand = { gqFairAssign(fairKey: string, prioritizedKey: string, ...args: Array<string | number>): Promise<number[]> };

/** The script as a command of the connection: sent once, then run by its SHA (ioredis falls back on NOSCRIPT). */
function withAssignCommand(redis: Redis): AssignCommand {
  const client = redis as Redis & Partial<AssignCommand>;
  if (!client.gqFairAssign) redis.defineCommand('gqFairAssign', { numberOfKeys: 2, lua: ASSIGN_LUA });
  return client as Redis & AssignCommand;
}

/** The user priority band (1..10) of a BullMQ priority given by `assignFairPriorities`. */
export function userPriorityOf(bullPriority: number): number {
  return Math.floor((bullPriority - 1) / FAIR_BAND) + 1;
}
