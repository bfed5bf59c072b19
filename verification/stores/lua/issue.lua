-- Issue this session's code for one phone, atomically (one round trip, one Cluster slot).
-- KEYS: code hash (phone+session), the caller's sends, the phone's sends, the owner's
--       reserve sends, the caller's failures, the phone's failures, the owner's reserve
--       failures, this operation's replay memory   (all tagged {phone})
-- ARGV: digest, operation id, caller kind ('other' | 'own' | 'withheld'), ttl_ms, keep_ms,
--       max_attempts, max_sends, max_phone_sends, owner_reserve_sends, send_window_ms,
--       cooldown_ms, max_failures, max_phone_failures, owner_reserve_failures,
--       failure_window_ms
-- Returns {status, wait_ms, own_code_live, tripped}; tripped = 1 when this send filled the
-- phone's send ceiling.
local code, op_key = KEYS[1], KEYS[8]
local sends = {mine = KEYS[2], phone = KEYS[3], reserve = KEYS[4]}
local fails = {mine = KEYS[5], phone = KEYS[6], reserve = KEYS[7]}
local digest, op, kind = ARGV[1], ARGV[2], ARGV[3]
local ttl_ms, keep_ms, max_attempts = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local max_sends = {mine = tonumber(ARGV[7]), phone = tonumber(ARGV[8]), reserve = tonumber(ARGV[9])}
local send_window_ms, cooldown_ms = tonumber(ARGV[10]), tonumber(ARGV[11])
local max_fails = {mine = tonumber(ARGV[12]), phone = tonumber(ARGV[13]),
                   reserve = tonumber(ARGV[14])}
local failure_window_ms = tonumber(ARGV[15])

local prior = recall(op_key)
if prior then return prior end

local now = now_ms()

-- precedence: locked > cooldown > rate_limited
local n = failure_counts(kind, fails, now, failure_window_ms)
local held = lock_ms(kind, fails, n, max_fails, now, failure_window_ms)
if held ~= 0 then
  return remember(op_key, {'locked', held, 0, 0})
end

local c = redis.call('HMGET', code, 'exp', 'att', 'at')
local function own_code_live()
  if c[1] and tonumber(c[1]) > now and tonumber(c[2]) < max_attempts then return 1 end
  return 0
end
local function refuse(status, wait_ms)
  return remember(op_key, {status, math.max(1, wait_ms), own_code_live(), 0})
end

local mine = 0
if kind == 'other' then
  -- another caller's number: a cooldown and an allowance of its own
  mine = window_count(sends.mine, now, send_window_ms)
  local last = redis.call('ZRANGE', sends.mine, -1, -1, 'WITHSCORES')
  if last[2] and now - tonumber(last[2]) < cooldown_ms then
    return refuse('cooldown', tonumber(last[2]) + cooldown_ms - now)
  end
  if mine >= max_sends.mine then
    return refuse('rate_limited', window_wait(sends.mine, mine, max_sends.mine, now, send_window_ms))
  end
elseif c[3] and now - tonumber(c[3]) < cooldown_ms then
  -- the phone's own or a withheld caller ID: the cooldown is this call's own
  return refuse('cooldown', tonumber(c[3]) + cooldown_ms - now)
end

local phone = window_count(sends.phone, now, send_window_ms)
local from_reserve = false
if phone >= max_sends.phone then
  local wait = window_wait(sends.phone, phone, max_sends.phone, now, send_window_ms)
  if kind ~= 'own' or max_sends.reserve == 0 then return refuse('rate_limited', wait) end
  local reserved = window_count(sends.reserve, now, send_window_ms)
  if reserved >= max_sends.reserve then
    local reserve_wait = window_wait(sends.reserve, reserved, max_sends.reserve, now, send_window_ms)
    return refuse('rate_limited', math.min(wait, reserve_wait))
  end
  from_reserve = true
end

local tripped = 0
if kind == 'other' then window_add(sends.mine, op, now, send_window_ms) end
if from_reserve then
  window_add(sends.reserve, op, now, send_window_ms)
else
  window_add(sends.phone, op, now, send_window_ms)
  if phone + 1 == max_sends.phone then tripped = 1 end
end
redis.call('HSET', code, 'digest', digest, 'exp', now + ttl_ms, 'att', 0, 'at', now)
redis.call('PEXPIRE', code, keep_ms)
return remember(op_key, {'issued', 0, 0, tripped})
