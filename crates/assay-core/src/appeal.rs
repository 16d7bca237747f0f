//! Appeals: a partner asks a second reviewer to hear a rejection or a request for changes.

use crate::identity::PartnerId;

/// Where an appeal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealState {
    /// Waiting for a reviewer other than the one who decided.
    Open,
    /// Heard: the decision stands.
    Upheld,
    /// Heard: the decision is overturned and the version approved.
    Overturned,
}

impl AppealState {
    /// Every state.
    pub const ALL: [AppealState; 3] = [AppealState::Open, AppealState::Upheld, AppealState::Overturned];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealState::Open => "open",
            AppealState::Upheld => "upheld",
            AppealState::Overturned => "overturned",
        }
    }
}

impl std::fmt::Display for AppealState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AppealState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AppealState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not an appeal state: open, upheld or overturned"))
    }
}

/// An appeal and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRecord {
    /// Its id.
    pub id: i64,
    /// The listing.
    pub slug: String,
    /// The listing's partner.
    pub partner: PartnerId,
    /// That partner's name.
    pub partner_name: String,
    /// The version.
    pub version: String,
    /// The decision appealed: `reject` or `request_changes`.
    pub decision: String,
    /// Who made it (the audit log's name); they may not hear the appeal.
    pub decided_by: String,
    /// Their note.
    pub decision_note: String,
    /// The partner's statement.
    pub statement: String,
    /// Who appealed.
    pub appealed_by: String,
    /// When (Unix seconds).
    pub appealed_at: i64,
    /// Where it is.
    pub state: AppealState,
    /// Who heard it.
    pub heard_by: Option<String>,
    /// Why they decided as they did.
    pub rationale: Option<String>,
    /// When (Unix seconds).
    pub decided_at: Option<i64>,
}
