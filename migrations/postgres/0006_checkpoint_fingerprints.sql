-- A hash of the bytes just before each checkpoint's position (up to 4 KiB), so a file
-- truncated and written again past the position (copytruncate) is recognised as no longer
-- the file the position was in, and read again from its start. NULL: checkpoints written
-- before the column existed, trusted as they are.
ALTER TABLE checkpoints ADD COLUMN fingerprint TEXT;
