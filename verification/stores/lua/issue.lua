-- Issue a challenge for one phone, atomically (one round trip, one Cluster slot).
-- KEYS: challenge hash, sends zset, failures counter   (all tagged {phone})
-- ARGV: session_id, digest, challenge_id, ttl_ms, max_sends, send_window_ms,
--       cooldown_ms, max_failures, keep_ms (how long an expired challenge is remembered)
local challenge, sends, failures = KEYS[1], KEYS[2], KEYS[3]
local ttl_ms, max_sends, window_ms = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cooldown_ms, max_failures, keep_ms = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- precedence: locked > cooldown > rate_limited
if tonumber(redis.call('GET', failures) or '0') >= max_failures then
  return {'locked', redis.call('PTTL', failures)}
end

redis.call('ZREMRANGEBYSCORE', sends, '-inf', now - window_ms)
local last = redis.call('ZRANGE', sends, -1, -1, 'WITHSCORES')
if last[2] and now - tonumber(last[2]) < cooldown_ms then
  return {'cooldown', tonumber(last[2]) + cooldown_ms - now}
end
if redis.call('ZCARD', sends) >= max_sends then
  local first = redis.call('ZRANGE', sends, 0, 0, 'WITHSCORES')
  return {'rate_limited', tonumber(first[2]) + window_ms - now}
end

redis.call('ZADD', sends, now, ARGV[3])
redis.call('PEXPIRE', sends, window_ms)
redis.call('DEL', challenge)
redis.call('HSET', challenge, 'sid', ARGV[1], 'digest', ARGV[2], 'cid', ARGV[3],
           'exp', now + ttl_ms, 'att', 0)
redis.call('PEXPIRE', challenge, keep_ms)
return {'issued', 0}
