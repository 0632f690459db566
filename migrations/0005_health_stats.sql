-- Boot-health statistics (issue 5): each health point of a stage also keeps
-- the sequential test's figures at that moment, so the series shows why the
-- evaluator halted, held or passed a stage. statistic is the log of the
-- mixture likelihood ratio "harmful" : "as good as the control" (harmful at
-- or above statistic_threshold = ln(1/alpha)); safe_statistic is the log
-- likelihood ratio "as good" : "min_ratio times worse" (not harmful at or
-- above safe_threshold = ln(1/beta)); verdict is the evaluator's reading
-- ('continue', 'harmful', 'backstop', 'not_harmful'). See docs/health.md.

ALTER TABLE stage_health_points
    ADD COLUMN statistic           double precision NOT NULL DEFAULT 0,
    ADD COLUMN statistic_threshold double precision NOT NULL DEFAULT 0,
    ADD COLUMN safe_statistic      double precision NOT NULL DEFAULT 0,
    ADD COLUMN safe_threshold      double precision NOT NULL DEFAULT 0,
    ADD COLUMN verdict             text NOT NULL DEFAULT 'continue'
        CHECK (verdict IN ('continue', 'harmful', 'backstop', 'not_harmful'));
