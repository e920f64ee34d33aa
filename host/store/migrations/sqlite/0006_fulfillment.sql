-- Fulfillment: the host-owned state machine's bookkeeping on orders, warehouse tasks
-- (pick, pack), per-merchant SLA rules, escalations (one per breach: the unique key), and
-- the merchant's notification webhook. State transitions are audited in `order_events`
-- (kind 'state', source = actor, from_status/to_status = states, detail = reason).

-- When Wharf first saw the order paid (the ship clock starts here), its ship deadline by
-- the merchant's SLA at that time, the merchant's review decision ('approved' | 'held'),
-- and the label.
ALTER TABLE orders ADD COLUMN paid_at BIGINT;
ALTER TABLE orders ADD COLUMN ship_due_at BIGINT;
ALTER TABLE orders ADD COLUMN review TEXT CHECK (review IN ('approved', 'held'));
ALTER TABLE orders ADD COLUMN carrier TEXT;
ALTER TABLE orders ADD COLUMN tracking_number TEXT;
CREATE INDEX orders_by_state ON orders (merchant_id, state, id);
CREATE INDEX orders_ship_due ON orders (ship_due_at);

CREATE TABLE warehouse_tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id       BIGINT  NOT NULL REFERENCES merchants (id),
    order_id          BIGINT  NOT NULL REFERENCES orders (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('pick', 'pack')),
    status            TEXT    NOT NULL CHECK (status IN ('open', 'assigned', 'in_progress', 'done', 'exception', 'cancelled')),
    assignee          TEXT,
    exception_reason  TEXT,
    created_at        BIGINT  NOT NULL,
    assigned_at       BIGINT,
    started_at        BIGINT,
    completed_at      BIGINT,
    updated_at        BIGINT  NOT NULL,
    -- Deadline by the merchant's SLA rule when the task started (NULL: no rule).
    due_at            BIGINT,
    -- The parcel record of a completed pack task (integers: grams, millimetres).
    weight_g          BIGINT  CHECK (weight_g > 0),
    length_mm         BIGINT  CHECK (length_mm > 0),
    width_mm          BIGINT  CHECK (width_mm > 0),
    height_mm         BIGINT  CHECK (height_mm > 0),
    UNIQUE (order_id, kind)
);
CREATE INDEX warehouse_tasks_by_merchant ON warehouse_tasks (merchant_id, status, id);
CREATE INDEX warehouse_tasks_due ON warehouse_tasks (status, due_at);

CREATE TABLE sla_rules (
    merchant_id  BIGINT  NOT NULL REFERENCES merchants (id),
    step         TEXT    NOT NULL CHECK (step IN ('pick', 'pack', 'ship')),
    limit_secs   BIGINT  NOT NULL CHECK (limit_secs > 0),
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (merchant_id, step)
);

CREATE TABLE escalations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  BIGINT  NOT NULL REFERENCES merchants (id),
    order_id     BIGINT  NOT NULL REFERENCES orders (id),
    task_id      BIGINT  REFERENCES warehouse_tasks (id),
    step         TEXT    NOT NULL,
    -- `task:<id>:<step>:<due_at>` or `order:<id>:ship:<due_at>`: one escalation per breach.
    breach_key   TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    detected_at  BIGINT  NOT NULL,
    detail       TEXT    NOT NULL,
    UNIQUE (merchant_id, breach_key)
);
CREATE INDEX escalations_by_merchant ON escalations (merchant_id, id);

-- Where escalations are sent: POST JSON signed with HMAC-SHA256 of `secret`.
CREATE TABLE notification_settings (
    merchant_id  BIGINT  PRIMARY KEY REFERENCES merchants (id),
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);
