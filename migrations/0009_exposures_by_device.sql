-- A device's exposures by device: every uncached assignment asks whether this
-- device is exposed to each live rollout. With only the (rollout_id, device_id)
-- key, a planner without statistics on the small rollouts table may answer
-- that with one pass over every exposure (a hashed subplan), tens of
-- milliseconds per assignment at 100,000 exposures; with this index either
-- plan reads only the device's own rows. It also serves ON DELETE CASCADE
-- from devices.
CREATE INDEX exposures_by_device ON exposures (device_id);
