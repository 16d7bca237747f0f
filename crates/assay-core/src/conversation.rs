//! A conversation on a version: messages between the partner and staff, staff's internal notes,
//! and holds (a reviewer waiting on the partner, with a reason the partner sees).

/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// The longest hold reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One message on a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: i64,
    /// Who wrote it (the audit log's name).
    pub author: String,
    /// Whether the author is staff (else a member of the listing's partner).
    pub staff: bool,
    /// Staff only: partners never see it.
    pub internal: bool,
    /// Plain text.
    pub body: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// A hold on a version: the review waits (and its clock stops) until it is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Its id.
    pub id: i64,
    /// Why, in words the partner reads ("waiting for a test account").
    pub reason: String,
    /// Who placed it.
    pub placed_by: String,
    /// When (Unix seconds).
    pub placed_at: i64,
    /// Who released it, and when; `None` while it holds.
    pub released: Option<(String, i64)>,
}

impl Hold {
    /// Seconds it held, up to `now` while it still does.
    pub fn held_for(&self, now: i64) -> i64 {
        let until = self.released.as_ref().map_or(now, |(_, at)| *at);
        (until - self.placed_at).max(0)
    }
}
