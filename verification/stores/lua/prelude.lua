-- Shared by every script (prepended when loaded; see verification/stores/scripts.py).

-- Time comes from the server, so workers with skewed clocks agree on windows and expiry.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A sliding window: a sorted set of event ids scored by when each happened. At most `limit`
-- events in any `window_ms`, however they are spread (a fixed window would allow twice the
-- limit across its boundary).
local function window_count(key, now, window_ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_ms)
  return redis.call('ZCARD', key)
end

local function window_add(key, member, now, window_ms)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window_ms)
end

-- ms until a window holding `count` events (count >= limit >= 1) has room for one more:
-- when its (count - limit + 1)-th oldest event leaves.
local function window_wait(key, count, limit, now, window_ms)
  local e = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  if not e[2] then return window_ms end
  return math.max(1, tonumber(e[2]) + window_ms - now)
end

-- A counter kept by an earlier version (a string counting up in a fixed window) becomes a
-- sliding window with the same events, ending when the old window would have ended.
local function upgrade(key, now, window_ms)
  if redis.call('TYPE', key)['ok'] ~= 'string' then return end
  local n, ttl = tonumber(redis.call('GET', key) or '0'), redis.call('PTTL', key)
  redis.call('DEL', key)
  if ttl <= 0 then return end
  for i = 1, n do redis.call('ZADD', key, now + ttl - window_ms, 'legacy-' .. i) end
  redis.call('PEXPIRE', key, ttl)
end

-- Replay memory. redis-py re-sends a command (or a whole pipeline) once after a dropped
-- connection, and the server may have run it already; each counting script carries an
-- operation id, answers a replay with its first answer, and counts nothing twice.
local OP_MEMORY_MS = 60000
local function recall(op_key)
  local prior = redis.call('GET', op_key)
  if prior then return cjson.decode(prior) end
  return nil
end
local function remember(op_key, reply)
  redis.call('SET', op_key, cjson.encode(reply), 'PX', OP_MEMORY_MS)
  return reply
end

-- How long a caller of `kind` stays locked out of a phone, 0 when not locked. `n` holds the
-- windows' counts {mine, phone, reserve}; `k` their keys; `max` their limits.
--   'other': locked when their own count or the phone's ceiling is full;
--   'withheld': only the phone's ceiling applies;
--   'own' (the caller ID is the phone itself): locked only when the ceiling and the
--   owner's reserve beyond it are both full.
local function lock_ms(kind, k, n, max, now, window_ms)
  local phone_ms = 0
  if n.phone >= max.phone then phone_ms = window_wait(k.phone, n.phone, max.phone, now, window_ms) end
  if kind == 'withheld' or (kind == 'own' and phone_ms == 0) then return phone_ms end
  if kind == 'own' then
    if max.reserve == 0 then return phone_ms end
    if n.reserve < max.reserve then return 0 end
    return math.min(phone_ms, window_wait(k.reserve, n.reserve, max.reserve, now, window_ms))
  end
  local mine_ms = 0
  if n.mine >= max.mine then mine_ms = window_wait(k.mine, n.mine, max.mine, now, window_ms) end
  return math.max(phone_ms, mine_ms)
end

-- The failure windows' counts for a caller of `kind` (legacy counters upgraded first).
local function failure_counts(kind, k, now, window_ms)
  upgrade(k.phone, now, window_ms)
  local n = {mine = 0, phone = window_count(k.phone, now, window_ms), reserve = 0}
  if kind == 'other' then
    upgrade(k.mine, now, window_ms)
    n.mine = window_count(k.mine, now, window_ms)
  elseif kind == 'own' then
    n.reserve = window_count(k.reserve, now, window_ms)
  end
  return n
end
