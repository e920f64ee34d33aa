-- Package signatures: how each plugin's package was signed, as checked on upload
-- ('verified' | 'unsigned' | 'untrusted_key'), the signer's key id and its vendor name from
-- the server's trusted keys. Plugins registered before signatures existed are 'unsigned'.
ALTER TABLE plugins ADD COLUMN signature_status TEXT NOT NULL DEFAULT 'unsigned';
ALTER TABLE plugins ADD COLUMN signer_key_id TEXT;
ALTER TABLE plugins ADD COLUMN signer_vendor TEXT;
