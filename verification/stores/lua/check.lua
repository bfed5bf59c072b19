-- Check one guess against a phone's live challenge, atomically (one round trip, one slot).
-- KEYS: challenge hash, failures counter   (both tagged {phone})
-- ARGV: session_id, digest, max_attempts, max_failures, failure_window_ms
local challenge, failures = KEYS[1], KEYS[2]
local max_attempts, max_failures = tonumber(ARGV[3]), tonumber(ARGV[4])
local failure_window_ms = tonumber(ARGV[5])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Constant-time equality: every byte is visited whatever the first difference.
local function same_digest(a, b)
  if not a or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

if tonumber(redis.call('GET', failures) or '0') >= max_failures then
  return {'locked', 0, redis.call('PTTL', failures)}
end

local c = redis.call('HMGET', challenge, 'sid', 'digest', 'exp', 'att')
if not c[1] or c[1] ~= ARGV[1] then
  return {'no_code', 0, 0}
end
if tonumber(c[3]) <= now then
  redis.call('DEL', challenge)
  return {'expired', 0, 0}
end
if same_digest(c[2], ARGV[2]) then
  redis.call('DEL', challenge, failures)
  return {'verified', 0, 0}
end

local attempts = tonumber(c[4]) + 1
local failed = redis.call('INCR', failures)
if failed == 1 then
  redis.call('PEXPIRE', failures, failure_window_ms)
end
if failed >= max_failures then
  redis.call('DEL', challenge)
  return {'locked', 0, redis.call('PTTL', failures)}
end
if attempts >= max_attempts then
  redis.call('DEL', challenge)
  return {'wrong_code', 0, 0}
end
redis.call('HSET', challenge, 'att', attempts)
return {'wrong_code', max_attempts - attempts, 0}
