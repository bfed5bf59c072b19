-- Count one event in advance on one counter unless its window is full (one Cluster slot).
-- KEYS: counter (a sliding window), this operation's replay memory
-- ARGV: limit, window_ms, operation id
-- Returns {1, 0} when counted, {0, ms until the window has room} when refused.
local counter, op_key = KEYS[1], KEYS[2]
local limit, window_ms = tonumber(ARGV[1]), tonumber(ARGV[2])

local prior = recall(op_key)
if prior then return prior end
local now = now_ms()
upgrade(counter, now, window_ms)
local count = window_count(counter, now, window_ms)
if count >= limit then
  return remember(op_key, {0, window_wait(counter, count, limit, now, window_ms)})
end
window_add(counter, ARGV[3], now, window_ms)
return remember(op_key, {1, 0})
