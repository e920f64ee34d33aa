-- When the installation's next verification sweep (active re-read of stale orders) is due.
ALTER TABLE installations ADD COLUMN next_verify_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_stale ON orders (installation_id, status, updated_at);
