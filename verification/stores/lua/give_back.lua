-- Undo one counted event (the newest; never below zero) (one Cluster slot).
-- KEYS: counter, this operation's replay memory
local counter, op_key = KEYS[1], KEYS[2]
local prior = recall(op_key)
if prior then return prior end
if redis.call('TYPE', counter)['ok'] == 'string' then  -- an earlier version's counter
  if tonumber(redis.call('GET', counter) or '0') > 0 then redis.call('DECR', counter) end
else
  redis.call('ZPOPMAX', counter)
end
return remember(op_key, {1})
