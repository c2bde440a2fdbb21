-- A boot token is used from the address that fetched the boot script carrying it (the machine's, as DHCP gave it):
-- knowing an ERASING machine's MAC is not enough to fetch a token elsewhere and report an erase that did not happen.
ALTER TABLE boot_token ADD COLUMN ip varchar(64);
