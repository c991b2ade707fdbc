-- Two desks that resolved one copy-lent-twice case differently while apart each closed the
-- other's kept loan as lent by mistake. Such a loan is still open: `returned` is what every
-- query reads (NULL = open) and is derived by `db::upsert_loan` from the loan's own recorded
-- return (`recorded_returned`), the day the copy physically came back (`back`), how it was
-- closed (`closed_as`) and the loan a resolution kept instead of it (`kept`): a loan closed as
-- lent by mistake in favour of a loan that is itself closed as lent by mistake, and never
-- seen back, counts as open, so the copy is never on the shelf while nobody holds it, and the
-- inbox shows the case again.
ALTER TABLE loan_index ADD COLUMN recorded_returned TEXT;
ALTER TABLE loan_index ADD COLUMN closed_as TEXT;
ALTER TABLE loan_index ADD COLUMN kept TEXT;
ALTER TABLE loan_index ADD COLUMN back TEXT;
UPDATE loan_index SET recorded_returned = returned;
CREATE INDEX loan_index_kept ON loan_index (kept) WHERE kept IS NOT NULL;

-- One row per registration of a reader card (entities `registrations` of a library scope):
-- two desks that registered one card number for two people while apart leave two rows with
-- that card, which the exceptions inbox shows.
CREATE TABLE registration_index (
    scope TEXT NOT NULL,
    id    TEXT NOT NULL,
    card  TEXT NOT NULL,
    PRIMARY KEY (scope, id)
) WITHOUT ROWID;
CREATE INDEX registration_index_card ON registration_index (scope, card);

-- The registration a reader card's entity describes: a card whose registration has moved to
-- another card (two desks gave new cards differently while apart) is shown in the inbox.
ALTER TABLE reader_index ADD COLUMN registration TEXT;

-- One row per note of a resolution (entities `exception_resolutions`): the inbox reads which
-- cases were dealt with, by whom, at which desk, on which day, without loading every shard.
CREATE TABLE resolution_index (
    scope      TEXT NOT NULL,
    id         TEXT NOT NULL,
    exception  TEXT NOT NULL,
    resolution TEXT NOT NULL,
    desk       TEXT NOT NULL,
    day        TEXT NOT NULL,
    PRIMARY KEY (scope, id)
) WITHOUT ROWID;
CREATE INDEX resolution_index_exception ON resolution_index (scope, exception);
