-- Check one guess against this session's code for a phone, atomically (one round trip, one
-- Cluster slot).
-- KEYS: code hash (phone+session), the caller's failures, the phone's failures, the
--       owner's reserve failures, this operation's replay memory   (all tagged {phone})
-- ARGV: digest, operation id, caller kind ('other' | 'own' | 'withheld'), max_attempts,
--       max_failures, max_phone_failures, owner_reserve_failures, failure_window_ms
-- Returns {status, attempts_left, lock_ms, tripped}; tripped = 1 when this guess filled the
-- phone's ceiling.
local code, op_key = KEYS[1], KEYS[5]
local k = {mine = KEYS[2], phone = KEYS[3], reserve = KEYS[4]}
local digest, op, kind = ARGV[1], ARGV[2], ARGV[3]
local max_attempts = tonumber(ARGV[4])
local max = {mine = tonumber(ARGV[5]), phone = tonumber(ARGV[6]), reserve = tonumber(ARGV[7])}
local window_ms = tonumber(ARGV[8])

local prior = recall(op_key)
if prior then return prior end

-- Constant-time equality: every byte is visited whatever the first difference.
local function same_digest(a, b)
  if not a or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end

local now = now_ms()
local n = failure_counts(kind, k, now, window_ms)
local held = lock_ms(kind, k, n, max, now, window_ms)
if held ~= 0 then
  return remember(op_key, {'locked', 0, held, 0})
end

local c = redis.call('HMGET', code, 'digest', 'exp', 'att')
if not c[1] then
  return remember(op_key, {'no_code', 0, 0, 0})
end
if tonumber(c[2]) <= now then
  redis.call('DEL', code)
  return remember(op_key, {'expired', 0, 0, 0})
end
if same_digest(c[1], digest) then
  -- this caller proved it holds the phone: its own count starts again; the phone's
  -- ceiling is never reset (else a patient's login would reopen it for an attacker)
  redis.call('DEL', code)
  if kind == 'other' then redis.call('DEL', k.mine) end
  return remember(op_key, {'verified', 0, 0, 0})
end

local attempts = tonumber(c[3]) + 1
local tripped = 0
if kind == 'other' then
  window_add(k.mine, op, now, window_ms)
  n.mine = n.mine + 1
end
if kind == 'own' and n.phone >= max.phone then
  window_add(k.reserve, op, now, window_ms)  -- beyond the ceiling: the owner's reserve
  n.reserve = n.reserve + 1
else
  window_add(k.phone, op, now, window_ms)
  n.phone = n.phone + 1
  if n.phone == max.phone then tripped = 1 end
end
local locking = lock_ms(kind, k, n, max, now, window_ms)
if locking ~= 0 then
  redis.call('DEL', code)
  return remember(op_key, {'locked', 0, locking, tripped})
end
if attempts >= max_attempts then
  redis.call('DEL', code)
  return remember(op_key, {'wrong_code', 0, 0, tripped})
end
redis.call('HSET', code, 'att', attempts)
return remember(op_key, {'wrong_code', max_attempts - attempts, 0, tripped})
