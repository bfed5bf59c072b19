-- Issue this session's code for one phone, atomically (one round trip, one Cluster slot).
-- KEYS: code hash (phone+session), caller sends zset, phone sends zset,
--       caller failures counter, phone failures counter   (all tagged {phone})
-- ARGV: digest, send_id (unique), ttl_ms, keep_ms, max_attempts, max_sends, max_phone_sends,
--       send_window_ms, cooldown_ms, max_failures, max_phone_failures
local code, caller_sends, phone_sends = KEYS[1], KEYS[2], KEYS[3]
local caller_failures, phone_failures = KEYS[4], KEYS[5]
local ttl_ms, keep_ms, max_attempts = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local max_sends, max_phone_sends = tonumber(ARGV[6]), tonumber(ARGV[7])
local window_ms, cooldown_ms = tonumber(ARGV[8]), tonumber(ARGV[9])
local max_failures, max_phone_failures = tonumber(ARGV[10]), tonumber(ARGV[11])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- precedence: locked > cooldown > rate_limited
local lock_ms = 0
if tonumber(redis.call('GET', caller_failures) or '0') >= max_failures then
  lock_ms = redis.call('PTTL', caller_failures)
end
if tonumber(redis.call('GET', phone_failures) or '0') >= max_phone_failures then
  lock_ms = math.max(lock_ms, redis.call('PTTL', phone_failures))
end
if lock_ms ~= 0 then
  return {'locked', lock_ms, 0}
end

local function own_code_live()
  local c = redis.call('HMGET', code, 'exp', 'att')
  if c[1] and tonumber(c[1]) > now and tonumber(c[2]) < max_attempts then return 1 end
  return 0
end

redis.call('ZREMRANGEBYSCORE', caller_sends, '-inf', now - window_ms)
redis.call('ZREMRANGEBYSCORE', phone_sends, '-inf', now - window_ms)
local last = redis.call('ZRANGE', caller_sends, -1, -1, 'WITHSCORES')
if last[2] and now - tonumber(last[2]) < cooldown_ms then
  return {'cooldown', tonumber(last[2]) + cooldown_ms - now, own_code_live()}
end
if redis.call('ZCARD', caller_sends) >= max_sends then
  local first = redis.call('ZRANGE', caller_sends, 0, 0, 'WITHSCORES')
  return {'rate_limited', tonumber(first[2]) + window_ms - now, own_code_live()}
end
if redis.call('ZCARD', phone_sends) >= max_phone_sends then
  local first = redis.call('ZRANGE', phone_sends, 0, 0, 'WITHSCORES')
  return {'rate_limited', tonumber(first[2]) + window_ms - now, own_code_live()}
end

redis.call('ZADD', caller_sends, now, ARGV[2])
redis.call('PEXPIRE', caller_sends, window_ms)
redis.call('ZADD', phone_sends, now, ARGV[2])
redis.call('PEXPIRE', phone_sends, window_ms)
redis.call('HSET', code, 'digest', ARGV[1], 'exp', now + ttl_ms, 'att', 0)
redis.call('PEXPIRE', code, keep_ms)
return {'issued', 0, 0}
