-- Inventory: SKUs with stock per warehouse, channel listings mapped to SKUs, reservations
-- per order line, per-channel sync rules, push state per listing, and the audit trail of
-- every stock change. `reserved <= on_hand` is enforced here, so no write — concurrent or
-- not — can leave a warehouse promising more than it holds.
CREATE TABLE skus (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   BIGINT  NOT NULL REFERENCES merchants (id),
    code          TEXT    NOT NULL CHECK (code <> ''),
    product_code  TEXT    NOT NULL DEFAULT '',
    title         TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    UNIQUE (merchant_id, code)
);

CREATE TABLE stock (
    sku_id      BIGINT  NOT NULL REFERENCES skus (id),
    warehouse   TEXT    NOT NULL CHECK (warehouse <> ''),
    on_hand     BIGINT  NOT NULL CHECK (on_hand >= 0),
    reserved    BIGINT  NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (sku_id, warehouse),
    CHECK (reserved <= on_hand)
);

CREATE TABLE reservations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  BIGINT  NOT NULL REFERENCES merchants (id),
    order_id     BIGINT  NOT NULL REFERENCES orders (id),
    line_id      TEXT    NOT NULL,
    sku_id       BIGINT  NOT NULL REFERENCES skus (id),
    -- NULL while short (no warehouse could hold the quantity: oversold).
    warehouse    TEXT,
    quantity     BIGINT  NOT NULL CHECK (quantity > 0),
    state        TEXT    NOT NULL CHECK (state IN ('held', 'short', 'released', 'consumed')),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    UNIQUE (order_id, line_id)
);
CREATE INDEX reservations_by_sku ON reservations (sku_id, state);
CREATE INDEX reservations_by_merchant ON reservations (merchant_id, state, order_id);

CREATE TABLE listings (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id            BIGINT  NOT NULL REFERENCES merchants (id),
    installation_id        BIGINT  NOT NULL REFERENCES installations (id),
    sku_id                 BIGINT  NOT NULL REFERENCES skus (id),
    channel_sku            TEXT    NOT NULL CHECK (channel_sku <> ''),
    outer_code             TEXT    NOT NULL DEFAULT '',
    created_at             BIGINT  NOT NULL,
    -- Push state: the value to push is computed when the push runs; `dirty` says a
    -- change is waiting, `change_seq` tells a push whether more changes came meanwhile.
    dirty                  BIGINT  NOT NULL DEFAULT 1,
    dirty_since            BIGINT,
    change_seq             BIGINT  NOT NULL DEFAULT 0,
    last_pushed_available  BIGINT,
    last_pushed_at         BIGINT,
    last_push_error        TEXT,
    UNIQUE (installation_id, channel_sku)
);
CREATE INDEX listings_by_sku ON listings (sku_id);
CREATE INDEX listings_dirty ON listings (installation_id, dirty);
CREATE INDEX listings_by_outer_code ON listings (installation_id, outer_code);

CREATE TABLE sync_rules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id      BIGINT  NOT NULL REFERENCES merchants (id),
    installation_id  BIGINT  NOT NULL REFERENCES installations (id),
    scope            TEXT    NOT NULL CHECK (scope IN ('shop', 'product', 'sku')),
    target           TEXT    NOT NULL,
    safety_stock     BIGINT  NOT NULL CHECK (safety_stock >= 0),
    ratio_bp         BIGINT  NOT NULL CHECK (ratio_bp BETWEEN 0 AND 10000),
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (installation_id, scope, target)
);

CREATE TABLE stock_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id     BIGINT  NOT NULL REFERENCES merchants (id),
    sku_id          BIGINT  NOT NULL REFERENCES skus (id),
    warehouse       TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    actor           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    on_hand_delta   BIGINT  NOT NULL,
    reserved_delta  BIGINT  NOT NULL,
    on_hand_after   BIGINT  NOT NULL,
    reserved_after  BIGINT  NOT NULL,
    reason          TEXT    NOT NULL,
    order_id        BIGINT
);
CREATE INDEX stock_events_by_sku ON stock_events (sku_id, id);

-- When the channel takes stock for an order: at 'order' or at 'payment'.
ALTER TABLE installations ADD COLUMN reduce_stock_at TEXT NOT NULL DEFAULT 'payment'
    CHECK (reduce_stock_at IN ('order', 'payment'));
