//! The JSON shapes of the API: what goes over the wire, converted at this edge from the
//! service's types. Clients (the CLI) deserialize the same types.

use assay_api::lifecycle::{
    BlockedVersion, DeprecatedVersion, Deprecation, FixBy, ListingStanding, Notice, Standing, TimelineEvent,
};
use assay_api::listings::{
    CheckResult, DecisionDto, FindingDto, Listing, PlatformCallDto, ReviewSummary, Submitted, Usage, Version,
    VersionSummary,
};
use assay_api::reviews::{QueueItem, Waiver};
use assay_core::listing::{ListingRecord, VersionRecord};
use assay_core::waiver::WaiverRecord;
use assay_service::{FindingView, VersionView};

/// Seconds since the Unix epoch as RFC 3339.
pub fn timestamp(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

pub(crate) fn listing(l: &ListingRecord) -> Listing {
    Listing {
        slug: l.slug.clone(),
        name: l.name.clone(),
        partner: l.partner_name.clone(),
        versions: l
            .versions
            .iter()
            .map(|(version, state)| VersionSummary {
                version: version.clone(),
                state: state.as_str().to_owned(),
                url: version_url(&l.slug, version),
            })
            .collect(),
        auto_release: l.auto_release,
        url: format!("/v1/listings/{}", l.slug),
    }
}

/// The path of a version's resource.
pub fn version_url(slug: &str, version: &str) -> String {
    format!("/v1/listings/{slug}/versions/{version}")
}

pub(crate) fn submitted(r: &VersionRecord) -> Submitted {
    Submitted {
        slug: r.slug.clone(),
        version: r.version.clone(),
        state: r.state.as_str().to_owned(),
        digest: r.digest.clone(),
        url: version_url(&r.slug, &r.version),
    }
}

pub(crate) fn platform_call(c: &assay_core::integration::PlatformCall) -> PlatformCallDto {
    PlatformCallDto {
        operation: c.operation.clone(),
        scope: c.scope.clone(),
        outcome: c.outcome.as_str().to_owned(),
        bytes_out: c.bytes_out,
    }
}

pub(crate) fn finding(f: &FindingView) -> FindingDto {
    FindingDto {
        rule_id: f.finding.rule_id.clone(),
        check_id: f.check_id.clone(),
        severity: f.finding.severity.as_str().to_owned(),
        message: f.finding.message.clone(),
        pointer: f.finding.pointer.clone(),
        remediation: f.finding.remediation.clone(),
        help_url: f.finding.help_url.clone(),
        author: if f.platform { "platform" } else { "partner" }.to_owned(),
        waived_by: f.waived_by,
    }
}

pub(crate) fn version(v: &VersionView) -> Version {
    let r = &v.record;
    let checks = v
        .review
        .iter()
        .flat_map(|review| review.runs.iter().zip(&review.rule_versions))
        .map(|(run, rule_version)| CheckResult {
            check_id: run.check_id.clone(),
            digest: run.digest.clone(),
            rule_version: rule_version.clone(),
            platform: run.platform,
            integration: run.integration,
            outcome: run.outcome.as_str().to_owned(),
            message: run.message.clone(),
            usage: Usage {
                wall_time_us: u64::try_from(run.usage.wall_time.as_micros()).unwrap_or(u64::MAX),
                fuel: run.usage.fuel,
                peak_memory_bytes: run.usage.peak_memory,
                output_bytes: run.usage.output_bytes,
                log_bytes: run.usage.log_bytes,
                platform_calls: run.usage.platform_calls,
                bytes_out: run.usage.bytes_out,
            },
            transcript: run.transcript.iter().map(crate::dto::platform_call).collect(),
        })
        .collect();
    Version {
        slug: r.slug.clone(),
        version: r.version.clone(),
        state: r.state.as_str().to_owned(),
        certified: r.certified,
        revision: r.revision,
        digest: r.digest.clone(),
        verdict: v.verdict.map(|v| v.as_str().to_owned()),
        review: v.review.as_ref().map(|review| ReviewSummary {
            pack: review.pack_name.clone(),
            pack_version: review.pack_version.clone(),
            finished_at: timestamp(review.finished_at),
            recorded_verdict: review.verdict.as_str().to_owned(),
        }),
        checks,
        findings: v.findings.iter().map(crate::dto::finding).collect(),
        decisions: v
            .decisions
            .iter()
            .map(|d| DecisionDto { actor: d.actor.clone(), action: d.action.clone(), note: d.note.clone() })
            .collect(),
        hold: v.hold.as_ref().map(hold),
        review_queue: v.queue.as_ref().map(|q| assay_api::reviews::QueuePlace {
            position: q.position,
            waiting: q.waiting,
            expected_by: timestamp(q.expected_by),
        }),
        url: version_url(&r.slug, &r.version),
    }
}

/// A hold as the API shows it.
pub(crate) fn hold(h: &assay_core::conversation::Hold) -> assay_api::conversation::HoldDto {
    assay_api::conversation::HoldDto {
        id: h.id,
        reason: h.reason.clone(),
        placed_by: h.placed_by.clone(),
        placed_at: timestamp(h.placed_at),
        released_by: h.released.as_ref().map(|(by, _)| by.clone()),
        released_at: h.released.as_ref().map(|(_, at)| timestamp(*at)),
    }
}

/// The entry as of `now`.
pub(crate) fn queue_item(q: &assay_service::review_queue::QueuedVersion, now: i64) -> QueueItem {
    let e = &q.entry;
    QueueItem {
        slug: e.slug.clone(),
        version: e.version.clone(),
        partner: e.partner_name.clone(),
        waiting_since: timestamp(e.waiting_since),
        waiting_secs: (now - e.waiting_since).max(0),
        verdict: e.verdict.map(|v| v.as_str().to_owned()),
        position: q.position,
        assignee: e.assignee.clone(),
        hold: e.hold.as_ref().map(|(reason, _)| reason.clone()),
        held_secs: q.held_secs,
        due_at: timestamp(q.due_at),
        time_left_secs: q.due_at - now,
        url: version_url(&e.slug, &e.version),
    }
}

/// The waiver as of `now`.
pub(crate) fn waiver(w: &WaiverRecord, now: i64) -> Waiver {
    Waiver {
        id: w.waiver.id,
        slug: w.slug.clone(),
        rule_id: w.waiver.rule_id.clone(),
        versions: w.waiver.versions.to_string(),
        justification: w.justification.clone(),
        approver: w.approver.clone(),
        created_at: timestamp(w.created_at),
        expires_at: timestamp(w.waiver.expires_at),
        live: now < w.waiver.expires_at,
    }
}

pub(crate) fn notice(n: &assay_core::notice::NoticeRecord) -> Notice {
    Notice {
        id: n.id,
        listing: n.slug.clone(),
        kind: n.kind.to_string(),
        summary: n.summary.clone(),
        effective: n.effective.to_string(),
        action_required: n.action_required.clone(),
        audience: n.audience.to_string(),
        author: n.author.clone(),
        published_at: timestamp(n.created_at),
    }
}

/// The schedule as of `today`.
pub(crate) fn deprecation(d: &assay_core::deprecation::DeprecationRecord, today: jiff::civil::Date) -> Deprecation {
    use assay_core::deprecation::DeprecationTarget;
    use assay_core::deprecation::Phase;
    let (listing, versions, api_version) = match &d.target {
        DeprecationTarget::Listing { slug, versions } => (Some(slug.clone()), Some(versions.to_string()), None),
        DeprecationTarget::ApiVersion(api) => (None, None, Some(api.clone())),
    };
    Deprecation {
        id: d.id,
        listing,
        versions,
        api_version,
        stability: d.stability.to_string(),
        announced: d.schedule.announced.to_string(),
        deprecated_from: d.schedule.deprecated_from.to_string(),
        sunset: d.schedule.sunset.to_string(),
        phase: match d.schedule.phase(today) {
            Phase::Announced => "announced",
            Phase::Deprecated => "deprecated",
            Phase::Sunset => "sunset",
        }
        .to_owned(),
        days_to_sunset: d.schedule.days_to_sunset(today),
        notice: format!("/v1/notices/{}", d.notice_id),
    }
}

pub(crate) fn standing(s: &assay_service::Standing) -> Standing {
    Standing {
        listings: s
            .listings
            .iter()
            .map(|l| ListingStanding {
                listing: l.slug.clone(),
                live: l.live.clone(),
                blocked: l
                    .blocked
                    .iter()
                    .map(|(version, rules)| BlockedVersion { version: version.clone(), rules: rules.clone() })
                    .collect(),
                deprecated: l
                    .deprecated
                    .iter()
                    .map(|(version, sunset)| DeprecatedVersion {
                        version: version.clone(),
                        sunset: sunset.map(|d| d.to_string()),
                    })
                    .collect(),
                pending: l.pending.clone(),
            })
            .collect(),
        fix_by: s
            .fix_by
            .iter()
            .map(|f| FixBy {
                date: f.date.to_string(),
                listing: f.listing.clone(),
                kind: f.kind.to_owned(),
                what: f.what.clone(),
            })
            .collect(),
        capabilities: s.capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
        suspended: s.suspended,
        exceptions: assay_api::lifecycle::ExceptionSummary {
            live: u32::try_from(s.exceptions.live).unwrap_or(u32::MAX),
            pending: u32::try_from(s.exceptions.pending).unwrap_or(u32::MAX),
            nearest_expiry: s.exceptions.nearest_expiry.map(timestamp),
        },
        capability_history: s
            .capability_history
            .iter()
            .map(|e| assay_api::people::CapabilityHistoryEntry {
                at: timestamp(e.at),
                actor: e.actor.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
    }
}

pub(crate) fn timeline_event(e: &assay_core::audit::AuditEvent) -> TimelineEvent {
    TimelineEvent {
        at: timestamp(e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        version: e.subject.split_once('@').map(|(_, v)| v.to_owned()),
        detail: e.detail.clone(),
    }
}
