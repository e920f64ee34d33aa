-- Wharf store, SQLite. Append-only: never edit a released migration, add a new file.
-- Times are BIGINT Unix milliseconds (UTC), money BIGINT minor units, JSON as TEXT,
-- booleans BIGINT 0/1.

CREATE TABLE merchants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL CHECK (name <> ''),
    created_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256  TEXT    NOT NULL UNIQUE,
    scope         TEXT    NOT NULL CHECK (scope IN ('operator', 'merchant')),
    merchant_id   BIGINT  REFERENCES merchants (id),
    label         TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    revoked_at    BIGINT,
    CHECK ((scope = 'operator' AND merchant_id IS NULL) OR (scope = 'merchant' AND merchant_id IS NOT NULL))
);

CREATE TABLE plugins (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    wit_version  TEXT    NOT NULL,
    manifest     TEXT    NOT NULL,
    component    BLOB    NOT NULL,
    sha256       TEXT    NOT NULL,
    size_bytes   BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE installations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id         BIGINT  NOT NULL REFERENCES merchants (id),
    plugin_id           BIGINT  NOT NULL REFERENCES plugins (id),
    platform            TEXT    NOT NULL,
    shop                TEXT    NOT NULL CHECK (shop <> ''),
    config              TEXT    NOT NULL,
    secrets             TEXT    NOT NULL,
    egress_grant        TEXT    NOT NULL,
    enabled             BIGINT  NOT NULL DEFAULT 1,
    pull_interval_secs  BIGINT  NOT NULL CHECK (pull_interval_secs > 0),
    cursor              TEXT,
    next_pull_at        BIGINT  NOT NULL,
    last_sync_at        BIGINT,
    last_error_code     TEXT,
    last_error          TEXT,
    last_error_at       BIGINT,
    orders_created      BIGINT  NOT NULL DEFAULT 0,
    orders_updated      BIGINT  NOT NULL DEFAULT 0,
    webhooks_accepted   BIGINT  NOT NULL DEFAULT 0,
    webhooks_rejected   BIGINT  NOT NULL DEFAULT 0,
    pulls_ok            BIGINT  NOT NULL DEFAULT 0,
    pulls_failed        BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    UNIQUE (merchant_id, platform, shop)
);
CREATE INDEX installations_due ON installations (enabled, next_pull_at);

CREATE TABLE installation_logs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    installation_id  BIGINT  NOT NULL REFERENCES installations (id),
    at               BIGINT  NOT NULL,
    level            TEXT    NOT NULL,
    message          TEXT    NOT NULL
);
CREATE INDEX installation_logs_by_installation ON installation_logs (installation_id, id);

CREATE TABLE webhook_deliveries (
    installation_id  BIGINT  NOT NULL REFERENCES installations (id),
    delivery_id      TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    received_at      BIGINT  NOT NULL,
    PRIMARY KEY (installation_id, delivery_id)
);

CREATE TABLE orders (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id           BIGINT  NOT NULL REFERENCES merchants (id),
    installation_id       BIGINT  NOT NULL REFERENCES installations (id),
    platform              TEXT    NOT NULL,
    shop                  TEXT    NOT NULL,
    external_id           TEXT    NOT NULL CHECK (external_id <> ''),
    number                TEXT    NOT NULL,
    status                TEXT    NOT NULL CHECK (status IN ('pending_payment', 'paid', 'partially_shipped', 'shipped', 'completed', 'cancelled', 'refunded')),
    raw_status            TEXT    NOT NULL,
    currency              TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    buyer                 TEXT,
    shipping_address      TEXT,
    shipping_fee_minor    BIGINT  NOT NULL,
    shipping_fee_currency TEXT    NOT NULL,
    discount_minor        BIGINT  NOT NULL,
    discount_currency     TEXT    NOT NULL,
    tax_minor             BIGINT  NOT NULL,
    tax_currency          TEXT    NOT NULL,
    total_paid_minor      BIGINT  NOT NULL,
    total_paid_currency   TEXT    NOT NULL,
    presale               TEXT,
    tags                  TEXT    NOT NULL,
    flagged               BIGINT  NOT NULL,
    flags                 TEXT    NOT NULL,
    content_sha256        TEXT    NOT NULL,
    state                 TEXT    NOT NULL DEFAULT 'received',
    ingested_at           BIGINT  NOT NULL,
    last_ingested_at      BIGINT  NOT NULL,
    UNIQUE (merchant_id, platform, shop, external_id)
);
CREATE INDEX orders_by_merchant ON orders (merchant_id, id);
CREATE INDEX orders_by_installation ON orders (installation_id, id);
CREATE INDEX orders_by_status ON orders (merchant_id, status, id);
CREATE INDEX orders_flagged ON orders (merchant_id, flagged, id);

CREATE TABLE order_lines (
    order_id           BIGINT  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no            BIGINT  NOT NULL,
    line_id            TEXT    NOT NULL,
    sku                TEXT    NOT NULL,
    channel_sku        TEXT    NOT NULL,
    title              TEXT    NOT NULL,
    quantity           BIGINT  NOT NULL CHECK (quantity >= 0),
    unit_price_minor   BIGINT  NOT NULL,
    unit_price_currency TEXT   NOT NULL,
    discount_minor     BIGINT  NOT NULL,
    discount_currency  TEXT    NOT NULL,
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, line_id)
);

CREATE TABLE order_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     BIGINT  NOT NULL REFERENCES orders (id),
    at           BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    detail       TEXT
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);
