-- wrk script for bench/run.sh: a light GET /healthz probe, one request every 10 ms per
-- connection, run beside the sign-in load. Its latency shows whether argon2 blocks the
-- server's async workers, because a worker busy hashing cannot answer the probe.

function delay()
  return 10
end
