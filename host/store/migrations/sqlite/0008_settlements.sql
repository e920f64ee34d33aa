-- Settlement and reconciliation: what each channel settled (lines and payouts, keyed by
-- the platform's ids within the installation: re-importing a period changes nothing), the
-- merchant's expected-net rule per installation (JSON of `wharf_domain::reconcile::NetRule`),
-- the merchant's variance threshold, SKU unit costs for margins, and when each
-- installation's daily settlement import is next due.

CREATE TABLE settlement_lines (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id        BIGINT  NOT NULL REFERENCES merchants (id),
    installation_id    BIGINT  NOT NULL REFERENCES installations (id),
    line_id            TEXT    NOT NULL CHECK (line_id <> ''),
    order_external_id  TEXT,
    kind               TEXT    NOT NULL CHECK (kind IN ('sale', 'refund', 'commission', 'platform_discount', 'shipping_subsidy', 'adjustment')),
    gross_minor        BIGINT  NOT NULL,
    gross_currency     TEXT    NOT NULL,
    fee_minor          BIGINT  NOT NULL,
    fee_currency       TEXT    NOT NULL,
    net_minor          BIGINT  NOT NULL,
    net_currency       TEXT    NOT NULL,
    settled_at         BIGINT  NOT NULL,
    payout_id          TEXT,
    imported_at        BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    UNIQUE (installation_id, line_id)
);
CREATE INDEX settlement_lines_by_time ON settlement_lines (merchant_id, settled_at);
CREATE INDEX settlement_lines_by_order ON settlement_lines (installation_id, order_external_id, settled_at);
CREATE INDEX settlement_lines_by_payout ON settlement_lines (installation_id, payout_id);

CREATE TABLE payouts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id      BIGINT  NOT NULL REFERENCES merchants (id),
    installation_id  BIGINT  NOT NULL REFERENCES installations (id),
    payout_id        TEXT    NOT NULL CHECK (payout_id <> ''),
    amount_minor     BIGINT  NOT NULL,
    currency         TEXT    NOT NULL,
    paid_at          BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    imported_at      BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (installation_id, payout_id)
);
CREATE INDEX payouts_by_time ON payouts (merchant_id, paid_at);

CREATE TABLE settlement_rules (
    installation_id  BIGINT  PRIMARY KEY REFERENCES installations (id),
    merchant_id      BIGINT  NOT NULL REFERENCES merchants (id),
    rule             TEXT    NOT NULL,
    updated_at       BIGINT  NOT NULL
);

CREATE TABLE reconciliation_settings (
    merchant_id               BIGINT  PRIMARY KEY REFERENCES merchants (id),
    variance_threshold_minor  BIGINT  NOT NULL CHECK (variance_threshold_minor >= 0),
    updated_at                BIGINT  NOT NULL
);

CREATE TABLE sku_costs (
    merchant_id      BIGINT  NOT NULL REFERENCES merchants (id),
    sku              TEXT    NOT NULL CHECK (sku <> ''),
    unit_cost_minor  BIGINT  NOT NULL CHECK (unit_cost_minor >= 0),
    currency         TEXT    NOT NULL,
    updated_at       BIGINT  NOT NULL,
    PRIMARY KEY (merchant_id, sku)
);

ALTER TABLE installations ADD COLUMN next_settlement_at BIGINT NOT NULL DEFAULT 0;
