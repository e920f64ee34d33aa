-- Accounting: the merchant's accounting connector and account mapping (JSON of
-- `wharf_domain::journal::AccountMapping`), and the period journals posted to it. A
-- journal is unique per (merchant, accounting installation, period, source installation
-- or 0 for all, currency) and by its reference: the same period can never be queued
-- twice. state: queued (its post_journal job pending or retrying) | posted (voucher
-- recorded) | failed (dead-lettered; last_error says why).

CREATE TABLE accounting_settings (
    merchant_id       BIGINT  PRIMARY KEY REFERENCES merchants (id),
    installation_id   BIGINT  NOT NULL REFERENCES installations (id),
    accounts          TEXT    NOT NULL,
    auto_post         BIGINT  NOT NULL DEFAULT 0 CHECK (auto_post IN (0, 1)),
    updated_at        BIGINT  NOT NULL
);

CREATE TABLE journals (
    id                          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id                 BIGINT  NOT NULL REFERENCES merchants (id),
    accounting_installation_id  BIGINT  NOT NULL REFERENCES installations (id),
    source_installation_id      BIGINT  REFERENCES installations (id),
    source_key                  BIGINT  NOT NULL,
    period                      TEXT    NOT NULL,
    period_start                BIGINT  NOT NULL,
    period_end                  BIGINT  NOT NULL CHECK (period_end > period_start),
    currency                    TEXT    NOT NULL,
    reference                   TEXT    NOT NULL CHECK (reference <> ''),
    journal                     TEXT    NOT NULL,
    state                       TEXT    NOT NULL CHECK (state IN ('queued', 'posted', 'failed')),
    voucher_id                  TEXT,
    voucher_number              TEXT,
    attempts                    BIGINT  NOT NULL DEFAULT 0,
    last_error                  TEXT,
    created_at                  BIGINT  NOT NULL,
    updated_at                  BIGINT  NOT NULL,
    posted_at                   BIGINT,
    UNIQUE (merchant_id, accounting_installation_id, period_start, period_end, source_key, currency),
    UNIQUE (merchant_id, reference)
);
CREATE INDEX journals_by_merchant ON journals (merchant_id, id);
