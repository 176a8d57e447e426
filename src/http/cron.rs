//! `GET /api/cron`: every plugin with a `cron` header — its expression, the zone it fires in,
//! the next fire time, whether it is scheduled (enabled), the latest cron run with its outcome
//! and duration, whether one is running, and the ticks skipped because the previous cron run was
//! still going. "Run now" is `POST /api/plugins/{id}/run` with `{"cron": true}`.

use super::AppState;
use crate::history::{Query, RUNNING, SKIPPED_OVERLAP};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::atomic::Ordering;

/// Cron records looked through for the latest real run (skipped ticks are records too).
const LOOK_BACK: usize = 50;

pub(super) async fn list(State(state): State<AppState>) -> Response {
    let registry = state.registry();
    let history = registry.services().history.clone();
    let zone = registry
        .timezone()
        .map_or_else(|| "local".to_string(), |tz| tz.name().to_string());
    let jobs: Vec<_> = registry
        .status()
        .into_iter()
        .filter(|p| p.cron.is_some())
        .map(|p| {
            let version = registry.current(&p.file);
            let skipped = version
                .as_ref()
                .map_or(0, |v| v.stats.cron_skipped.load(Ordering::Relaxed));
            let runs = p.id.as_ref().map_or_else(Vec::new, |id| {
                history
                    .list(&Query {
                        plugin: Some(id.clone()),
                        trigger: Some("cron".into()),
                        limit: LOOK_BACK,
                        ..Query::default()
                    })
                    .0
            });
            let running = runs.iter().any(|r| r.outcome == RUNNING);
            let last = runs
                .iter()
                .find(|r| r.outcome != RUNNING && r.outcome != SKIPPED_OVERLAP)
                .map(|r| &**r);
            json!({
                "file": p.file,
                "id": p.id,
                "title": p.title,
                "cron": p.cron,
                "cron_error": p.cron_error,
                "timezone": zone,
                "next_cron": p.next_cron,
                "enabled": p.enabled,
                "state": p.state,
                "running": running,
                "last_run": last,
                "skipped_overlaps": skipped,
            })
        })
        .collect();
    Json(json!({ "timezone": zone, "jobs": jobs })).into_response()
}
