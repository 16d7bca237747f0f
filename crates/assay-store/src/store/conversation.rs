//! The conversation on a version: messages both ways, staff's internal notes, and holds.
//!
//! Messages and holds are audited under the version (`listing:{slug}@{version}`), so they are
//! on the listing's timeline; internal notes are audited under `note:{slug}@{version}`, which
//! is not, because partners read the timeline.

use assay_core::conversation::{Hold, Message};

use super::{Id, Store, StoreError, append};

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    author: String,
    staff: i64,
    internal: i64,
    body: String,
    created_at: i64,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Message {
        Message {
            id: r.id,
            author: r.author,
            staff: r.staff != 0,
            internal: r.internal != 0,
            body: r.body,
            at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HoldRow {
    id: i64,
    reason: String,
    placed_by: String,
    placed_at: i64,
    released_by: Option<String>,
    released_at: Option<i64>,
}

impl From<HoldRow> for Hold {
    fn from(r: HoldRow) -> Hold {
        Hold {
            id: r.id,
            reason: r.reason,
            placed_by: r.placed_by,
            placed_at: r.placed_at,
            released: r.released_by.zip(r.released_at),
        }
    }
}

/// The version `v` of listing `l` named by `$slug` and `$version` placeholders.
macro_rules! version_of {
    ($slug:literal, $version:literal) => {
        concat!(
            "(SELECT v.id FROM versions v JOIN listings l ON l.id = v.listing_id WHERE l.slug = ",
            $slug,
            " AND v.version = ",
            $version,
            ")"
        )
    };
}

impl Store {
    /// Post a message on a version (`staff`: written by staff; `internal`: a staff note partners
    /// never see), audited as `message.post` or `message.note`.
    #[allow(clippy::too_many_arguments)]
    pub async fn post_message(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        staff: bool,
        internal: bool,
        body: &str,
        at: i64,
    ) -> Result<Message, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query_as::<_, Id>(concat!(
            "INSERT INTO messages (version_id, author, staff, internal, body, created_at) SELECT id, $1, $2, $3, $4, $5 FROM ",
            version_of!("$6", "$7"),
            " AS target WHERE id IS NOT NULL RETURNING id"
        ))
        .bind(actor)
        .bind(i64::from(staff))
        .bind(i64::from(internal))
        .bind(body)
        .bind(at)
        .bind(slug)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Id { id }) = inserted else {
            return Err(StoreError::NotFound(format!("version {version} of `{slug}`")));
        };
        let (action, subject) = if internal {
            ("message.note", format!("note:{slug}@{version}"))
        } else {
            ("message.post", format!("listing:{slug}@{version}"))
        };
        append(&mut tx, actor, action, &subject, &format!("#{id}: {body}")).await?;
        tx.commit().await?;
        Ok(Message { id, author: actor.to_owned(), staff, internal, body: body.to_owned(), at })
    }

    /// A version's messages, oldest first (with staff's internal notes when `internal`).
    pub async fn messages(&self, slug: &str, version: &str, internal: bool) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query_as::<_, MessageRow>(concat!(
            "SELECT id, author, staff, internal, body, created_at FROM messages WHERE version_id = ",
            version_of!("$1", "$2"),
            " AND (internal = 0 OR $3 = 1) ORDER BY id"
        ))
        .bind(slug)
        .bind(version)
        .bind(i64::from(internal))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Message::from).collect())
    }

    /// One message.
    pub async fn message(&self, id: i64) -> Result<Option<(String, String, Message)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            slug: String,
            version: String,
            #[sqlx(flatten)]
            message: MessageRow,
        }
        let row = sqlx::query_as::<_, Row>(
            "SELECT l.slug, v.version, m.id, m.author, m.staff, m.internal, m.body, m.created_at FROM messages m \
             JOIN versions v ON v.id = m.version_id JOIN listings l ON l.id = v.listing_id WHERE m.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.slug, r.version, r.message.into())))
    }

    /// Put a version on hold with a reason the partner reads, audited as `version.hold`.
    /// [`StoreError::Exists`] if it is on hold already.
    pub async fn place_hold(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        reason: &str,
        at: i64,
    ) -> Result<Hold, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query_as::<_, Id>(concat!(
            "INSERT INTO holds (version_id, reason, placed_by, placed_at) SELECT id, $1, $2, $3 FROM ",
            version_of!("$4", "$5"),
            " AS target WHERE id IS NOT NULL ON CONFLICT (version_id) WHERE released_at IS NULL DO NOTHING RETURNING id"
        ))
        .bind(reason)
        .bind(actor)
        .bind(at)
        .bind(slug)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Id { id }) = inserted else {
            drop(tx);
            return Err(match self.version(slug, version).await? {
                Some(_) => StoreError::Exists(format!("a hold on {slug} {version}")),
                None => StoreError::NotFound(format!("version {version} of `{slug}`")),
            });
        };
        append(&mut tx, actor, "version.hold", &format!("listing:{slug}@{version}"), &format!("#{id}: {reason}"))
            .await?;
        tx.commit().await?;
        Ok(Hold { id, reason: reason.to_owned(), placed_by: actor.to_owned(), placed_at: at, released: None })
    }

    /// Release a version's hold, audited as `version.release_hold`; `None` if it has none.
    pub async fn release_hold(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        note: &str,
        at: i64,
    ) -> Result<Option<Hold>, StoreError> {
        let mut tx = self.write().await?;
        let released = sqlx::query_as::<_, HoldRow>(concat!(
            "UPDATE holds SET released_by = $1, released_at = $2 WHERE released_at IS NULL AND version_id = ",
            version_of!("$3", "$4"),
            " RETURNING id, reason, placed_by, placed_at, released_by, released_at"
        ))
        .bind(actor)
        .bind(at)
        .bind(slug)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(hold) = released else { return Ok(None) };
        let detail = format!("#{}: {note}", hold.id);
        append(&mut tx, actor, "version.release_hold", &format!("listing:{slug}@{version}"), &detail).await?;
        tx.commit().await?;
        Ok(Some(hold.into()))
    }

    /// A version's holds, oldest first (the last one holds if it is not released).
    pub async fn holds(&self, slug: &str, version: &str) -> Result<Vec<Hold>, StoreError> {
        let rows = sqlx::query_as::<_, HoldRow>(concat!(
            "SELECT id, reason, placed_by, placed_at, released_by, released_at FROM holds WHERE version_id = ",
            version_of!("$1", "$2"),
            " ORDER BY id"
        ))
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Hold::from).collect())
    }

    /// One hold.
    pub async fn hold(&self, id: i64) -> Result<Option<Hold>, StoreError> {
        let row = sqlx::query_as::<_, HoldRow>(
            "SELECT id, reason, placed_by, placed_at, released_by, released_at FROM holds WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Hold::from))
    }
}

#[derive(sqlx::FromRow)]
struct AssigneeRow {
    assignee: String,
}

#[derive(sqlx::FromRow)]
struct VersionIdRow {
    id: i64,
}

#[derive(sqlx::FromRow)]
struct SubmittedRow {
    created_at: i64,
}

impl Store {
    /// Assign a version's review to `assignee`, audited as `version.assign`. A claim
    /// (`take_over` false) takes only a version no one has: of concurrent claims one wins, and
    /// the others get [`StoreError::AlreadyDecided`] naming who has it. An assignment by a
    /// reviewer (`take_over`) replaces whoever had it.
    pub async fn assign_review(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        assignee: &str,
        take_over: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let sql = if take_over {
            concat!(
                "INSERT INTO review_assignments (version_id, assignee, assigned_by, assigned_at) SELECT id, $1, $2, $3 FROM ",
                version_of!("$4", "$5"),
                " AS target WHERE id IS NOT NULL ON CONFLICT (version_id) DO UPDATE SET assignee = excluded.assignee, \
                 assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at RETURNING version_id AS id"
            )
        } else {
            concat!(
                "INSERT INTO review_assignments (version_id, assignee, assigned_by, assigned_at) SELECT id, $1, $2, $3 FROM ",
                version_of!("$4", "$5"),
                " AS target WHERE id IS NOT NULL ON CONFLICT (version_id) DO NOTHING RETURNING version_id AS id"
            )
        };
        let inserted = sqlx::query_as::<_, Id>(sql)
            .bind(assignee)
            .bind(actor)
            .bind(at)
            .bind(slug)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        if inserted.is_none() {
            drop(tx);
            return Err(match self.assignee(slug, version).await? {
                Some(holder) if holder == assignee => return Ok(()),
                Some(holder) => StoreError::AlreadyDecided(format!("{slug} {version} is assigned to {holder}")),
                None => StoreError::NotFound(format!("version {version} of `{slug}`")),
            });
        }
        let how = if actor == assignee { "claimed".to_owned() } else { format!("assigned by {actor}") };
        let subject = format!("listing:{slug}@{version}");
        append(&mut tx, actor, "version.assign", &subject, &format!("{assignee} ({how})")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take a version's review away from whoever has it, audited as `version.unassign`;
    /// `None` if no one had it.
    pub async fn unassign_review(&self, actor: &str, slug: &str, version: &str) -> Result<Option<String>, StoreError> {
        let mut tx = self.write().await?;
        let removed = sqlx::query_as::<_, AssigneeRow>(concat!(
            "DELETE FROM review_assignments WHERE version_id = ",
            version_of!("$1", "$2"),
            " RETURNING assignee"
        ))
        .bind(slug)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(AssigneeRow { assignee }) = removed else { return Ok(None) };
        append(&mut tx, actor, "version.unassign", &format!("listing:{slug}@{version}"), &assignee).await?;
        tx.commit().await?;
        Ok(Some(assignee))
    }

    /// Who a version's review is assigned to.
    pub async fn assignee(&self, slug: &str, version: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query_as::<_, AssigneeRow>(concat!(
            "SELECT assignee FROM review_assignments WHERE version_id = ",
            version_of!("$1", "$2")
        ))
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.assignee))
    }

    /// The versions awaiting review whose latest review reported a finding of `rule`.
    pub async fn waiting_with_rule(&self, rule: &str) -> Result<Vec<assay_core::identity::VersionId>, StoreError> {
        let rows = sqlx::query_as::<_, VersionIdRow>(
            "SELECT v.id FROM versions v WHERE v.state = 'awaiting_review' AND EXISTS (SELECT 1 FROM findings f \
             WHERE f.rule_id = $1 AND f.review_id = \
             (SELECT r.id FROM review_runs r WHERE r.version_id = v.id ORDER BY r.id DESC LIMIT 1))",
        )
        .bind(rule)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| assay_core::identity::VersionId(r.id)).collect())
    }

    /// When a version was submitted (Unix seconds).
    pub async fn submitted_at(&self, slug: &str, version: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query_as::<_, SubmittedRow>(
            "SELECT v.created_at FROM versions v JOIN listings l ON l.id = v.listing_id \
             WHERE l.slug = $1 AND v.version = $2",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.created_at))
    }
}
