-- Warehouse scanning: a scanned code is looked up among the merchant's orders by order
-- number, the channel's order id and the tracking number, each through its own index.
CREATE INDEX orders_by_number ON orders (merchant_id, number);
CREATE INDEX orders_by_external_id ON orders (merchant_id, external_id);
CREATE INDEX orders_by_tracking_number ON orders (merchant_id, tracking_number);
