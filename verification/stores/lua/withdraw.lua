-- Undo an issue whose SMS never left: give the send back, drop the challenge if still ours.
-- KEYS: challenge hash, sends zset   ARGV: challenge_id
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'cid') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
