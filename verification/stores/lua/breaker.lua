-- One SMS provider's circuit breaker, shared by every process (one key, one Cluster slot).
-- KEYS: breaker hash {failures, open_until, probe_until} (ms, server time)
-- ARGV: action ('allow' | 'success' | 'failure' | 'release'), probe_ms, threshold, cooloff_ms
-- 'allow' returns 1 when the send may use the provider, else 0.
local key, action = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local keep_ms = 86400000

if action == 'success' then
  redis.call('DEL', key)
  return 1
end
local b = redis.call('HMGET', key, 'failures', 'open_until', 'probe_until')
local failures = tonumber(b[1] or '0')
local open_until, probe_until = tonumber(b[2] or '0'), tonumber(b[3] or '0')
if action == 'allow' then
  if open_until == 0 then return 1 end
  if now < open_until or now < probe_until then return 0 end
  redis.call('HSET', key, 'probe_until', now + tonumber(ARGV[2]))
  return 1
end
if action == 'release' then
  if b[1] then redis.call('HSET', key, 'probe_until', 0) end
  return 1
end
-- failure
failures = failures + 1
if probe_until > 0 or failures >= tonumber(ARGV[3]) then
  open_until = now + tonumber(ARGV[4])
end
redis.call('HSET', key, 'failures', failures, 'open_until', open_until, 'probe_until', 0)
redis.call('PEXPIRE', key, keep_ms)
return 1
