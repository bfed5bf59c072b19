-- Count one failure in advance on one counter unless it is at its limit (one Cluster slot).
-- KEYS: counter   ARGV: limit, window_ms
-- Returns {1, 0} when counted, {0, ms until the window ends} when refused.
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local ms = redis.call('PTTL', KEYS[1])
  if ms < 1 then ms = 1 end
  return {0, ms}
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return {1, 0}
