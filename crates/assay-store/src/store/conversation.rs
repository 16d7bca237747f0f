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
