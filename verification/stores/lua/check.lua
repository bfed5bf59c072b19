-- Check one guess against this session's code for a phone, atomically (one round trip, one
-- Cluster slot).
-- KEYS: code hash (phone+session), caller failures counter, phone failures counter
--       (all tagged {phone})
-- ARGV: digest, max_attempts, max_failures, max_phone_failures, failure_window_ms
local code, caller_failures, phone_failures = KEYS[1], KEYS[2], KEYS[3]
local max_attempts, max_failures = tonumber(ARGV[2]), tonumber(ARGV[3])
local max_phone_failures, window_ms = tonumber(ARGV[4]), tonumber(ARGV[5])

-- Constant-time equality: every byte is visited whatever the first difference.
local function same_digest(a, b)
  if not a or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

local function lock_ms(mine, everyone)
  local ms = 0
  if mine >= max_failures then ms = redis.call('PTTL', caller_failures) end
  if everyone >= max_phone_failures then
    ms = math.max(ms, redis.call('PTTL', phone_failures))
  end
  return ms
end

local counts = redis.call('MGET', caller_failures, phone_failures)
local held = lock_ms(tonumber(counts[1] or '0'), tonumber(counts[2] or '0'))
if held ~= 0 then
  return {'locked', 0, held}
end

local c = redis.call('HMGET', code, 'digest', 'exp', 'att')
if not c[1] then
  return {'no_code', 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(c[2]) <= now then
  redis.call('DEL', code)
  return {'expired', 0, 0}
end
if same_digest(c[1], ARGV[1]) then
  -- this caller proved it holds the phone; the whole-phone ceiling is never reset
  redis.call('DEL', code, caller_failures)
  return {'verified', 0, 0}
end

local attempts = tonumber(c[3]) + 1
local mine = redis.call('INCR', caller_failures)
if mine == 1 then redis.call('PEXPIRE', caller_failures, window_ms) end
local everyone = redis.call('INCR', phone_failures)
if everyone == 1 then redis.call('PEXPIRE', phone_failures, window_ms) end
local locking = lock_ms(mine, everyone)
if locking ~= 0 then
  redis.call('DEL', code)
  return {'locked', 0, locking}
end
if attempts >= max_attempts then
  redis.call('DEL', code)
  return {'wrong_code', 0, 0}
end
redis.call('HSET', code, 'att', attempts)
return {'wrong_code', max_attempts - attempts, 0}
