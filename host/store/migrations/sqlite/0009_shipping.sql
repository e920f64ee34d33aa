-- Shipping: the merchant's carrier selection rules, sender address and tracking providers
-- (one JSON document per merchant, replaced as a whole), shipments with their waybill and
-- label, deduplicated tracking events, and after-sales tickets with their notes.

CREATE TABLE shipping_settings (
    merchant_id  BIGINT  PRIMARY KEY REFERENCES merchants (id),
    -- JSON: {rules: [...], default: pick|null, sender: address|null, tracking: [...]}.
    settings     TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE shipments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id        BIGINT  NOT NULL REFERENCES merchants (id),
    order_id           BIGINT  NOT NULL REFERENCES orders (id),
    installation_id    BIGINT  NOT NULL REFERENCES installations (id),
    carrier            TEXT    NOT NULL,
    service_code       TEXT,
    tracking_number    TEXT    NOT NULL,
    label              BLOB    NOT NULL,
    label_format       TEXT    NOT NULL CHECK (label_format IN ('pdf', 'zpl')),
    price_minor        BIGINT,
    price_currency     TEXT,
    rule_name          TEXT    NOT NULL,
    rule_reason        TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('labelled', 'shipped', 'delivered', 'exception', 'returned', 'cancelled')),
    -- Which courier installation tracks it (the waybill's own unless the merchant says).
    tracking_installation_id BIGINT REFERENCES installations (id),
    tracking_status    TEXT,
    next_track_at      BIGINT,
    shipped_at         BIGINT,
    confirmed_at       BIGINT,
    confirm_error      TEXT,
    confirm_note       TEXT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
-- At most one live (not cancelled) shipment per order.
CREATE UNIQUE INDEX shipments_one_live ON shipments (order_id) WHERE state <> 'cancelled';
CREATE INDEX shipments_by_merchant ON shipments (merchant_id, id);
CREATE INDEX shipments_track_due ON shipments (state, next_track_at);

CREATE TABLE tracking_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    shipment_id  BIGINT  NOT NULL REFERENCES shipments (id),
    at           BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    raw_status   TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    recorded_at  BIGINT  NOT NULL,
    UNIQUE (shipment_id, at, raw_status)
);

CREATE TABLE after_sales_tickets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id    BIGINT  NOT NULL REFERENCES merchants (id),
    order_id       BIGINT  NOT NULL REFERENCES orders (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('refund', 'return')),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved', 'rejected', 'closed')),
    queue          TEXT    NOT NULL,
    assignee       TEXT,
    -- What the channel last said about the request: requested | refunded | closed.
    channel_state  TEXT    NOT NULL,
    opened_by      TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    closed_at      BIGINT
);
-- At most one open ticket per order and kind.
CREATE UNIQUE INDEX after_sales_one_open ON after_sales_tickets (order_id, kind) WHERE status IN ('open', 'in_progress');
CREATE INDEX after_sales_by_merchant ON after_sales_tickets (merchant_id, status, id);

CREATE TABLE after_sales_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   BIGINT  NOT NULL REFERENCES after_sales_tickets (id),
    at          BIGINT  NOT NULL,
    author      TEXT    NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX after_sales_notes_by_ticket ON after_sales_notes (ticket_id, id);
