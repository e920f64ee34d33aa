-- Circuit breaker per installation: consecutive failed calls, and while open, until when
-- calls are suspended and why.
ALTER TABLE installations ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE installations ADD COLUMN breaker_open_until BIGINT;
ALTER TABLE installations ADD COLUMN breaker_reason TEXT;
