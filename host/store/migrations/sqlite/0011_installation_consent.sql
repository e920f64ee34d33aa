-- The merchant's consent to what an installation's plugin may use: the hosts and secret
-- names granted (JSON arrays, the manifest's lists as the merchant restated them), which
-- plugin they were granted for, when, and by whom (`api:<token label>`). One row per
-- installation, replaced when the merchant consents again. Installations created before
-- consent was recorded have no row.
CREATE TABLE installation_consents (
    installation_id  BIGINT  PRIMARY KEY REFERENCES installations (id),
    merchant_id      BIGINT  NOT NULL REFERENCES merchants (id),
    plugin_id        BIGINT  NOT NULL REFERENCES plugins (id),
    hosts            TEXT    NOT NULL,
    secrets          TEXT    NOT NULL,
    consented_at     BIGINT  NOT NULL,
    consented_by     TEXT    NOT NULL
);
