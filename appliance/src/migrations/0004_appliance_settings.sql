-- Facts about this appliance that are not replicated: which library it serves, the latest
-- wall time it has seen (to notice a clock that went backwards), the clock correction a
-- librarian set from her phone. One row per setting.
CREATE TABLE appliance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
