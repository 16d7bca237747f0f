-- A rule's long-form documentation (what it checks, why, how to fix it, a failing and a passing
-- example) as its pack ships it, by the file name pack.toml gives it (issue 19).
CREATE TABLE rule_pack_docs (
    pack_id BIGINT NOT NULL REFERENCES rule_packs (id),
    name TEXT NOT NULL,
    markdown TEXT NOT NULL,
    PRIMARY KEY (pack_id, name)
);
