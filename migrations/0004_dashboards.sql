-- Dashboards (issue 7): a health time series per rollout stage. The evaluator
-- records a point for every started stage of a live rollout whenever its
-- figures change, and at least every 30 s while they do not, so a dashboard can
-- chart a stage's failure rate against its control and its halt threshold up
-- to the halt. At most one point per stage and second (several server
-- instances may evaluate at once; the last figures of a second win).

CREATE TABLE stage_health_points (
    rollout_id       bigint NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    stage            integer NOT NULL,
    at_s             bigint NOT NULL,               -- seconds since the epoch (database clock)
    exposed          bigint NOT NULL,
    healthy          bigint NOT NULL,
    failed           bigint NOT NULL,
    silent           bigint NOT NULL,
    failure_rate     double precision NOT NULL,     -- failed / exposed (0 when none exposed)
    -- the control: devices reporting the rollout's channel that are not exposed to it
    control_devices  bigint NOT NULL,
    control_failed   bigint NOT NULL,
    control_rate     double precision NOT NULL,
    threshold        double precision NOT NULL,     -- the stage's halt failure rate
    PRIMARY KEY (rollout_id, stage, at_s)
);
