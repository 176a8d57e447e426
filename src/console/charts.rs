//! The overview's charts, drawn here as inline SVG (no chart library, nothing fetched): one bar
//! per point of `GET /api/runs/series`, the scale and the time span as HTML around it, a
//! `<title>` per bar for the exact value.

use maud::{html, Markup};
use serde_json::Value;

/// Which number of a point a chart shows.
#[derive(Clone, Copy)]
pub enum Measure {
    Runs,
    Errors,
    P99,
}

impl Measure {
    fn of(self, p: &Value) -> Option<f64> {
        match self {
            Measure::Runs => p["runs"].as_f64(),
            Measure::Errors => p["errors"].as_f64(),
            Measure::P99 => p["p99_ms"].as_f64(),
        }
    }

    fn unit(self, v: f64) -> String {
        match self {
            Measure::Runs => format!("{v:.0} runs"),
            Measure::Errors => format!("{v:.0} errors"),
            Measure::P99 => format!("p99 {}", ms(v)),
        }
    }

    fn class(self) -> &'static str {
        match self {
            Measure::Runs => "runs",
            Measure::Errors => "errors",
            Measure::P99 => "p99",
        }
    }
}

fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0} µs", v * 1000.0)
    } else if v < 1000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{:.2} s", v / 1000.0)
    }
}

const W: f64 = 600.0;
const H: f64 = 100.0;

/// A bar chart of `measure` over the series' points.
pub fn chart(title: &str, series: &Value, measure: Measure) -> Markup {
    let points = series["points"].as_array().cloned().unwrap_or_default();
    let step_s = series["step_s"].as_i64().unwrap_or(60);
    let values: Vec<Option<f64>> = points.iter().map(|p| measure.of(p)).collect();
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { max } else { 1.0 };
    let n = points.len().max(1) as f64;
    let bar = W / n;
    let label = |p: &Value| {
        p["t_ms"]
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let first = points.first().map(label).unwrap_or_default();
    let last = points.last().map(label).unwrap_or_default();
    let total: f64 = values.iter().flatten().sum();
    let headline = match measure {
        Measure::P99 => {
            if max > 0.0 {
                format!("worst {}", ms(max))
            } else {
                "no runs".into()
            }
        }
        _ => format!("{total:.0} in all, at most {max:.0} per {}", per(step_s)),
    };
    let aria = format!("{title}: {headline}, {first} to {last} UTC");
    html! {
        figure.chart {
            figcaption {
                strong { (title) }
                span.muted { " " (headline) }
            }
            svg class={ "bars " (measure.class()) } viewBox={ "0 0 " (W) " " (H) }
                preserveAspectRatio="none" role="img" aria-label=(aria) {
                line.grid x1="0" y1="0.5" x2=(W) y2="0.5" {}
                line.axis x1="0" y1=(H - 0.5) x2=(W) y2=(H - 0.5) {}
                @for (i, (p, v)) in points.iter().zip(&values).enumerate() {
                    @if let Some(v) = v.filter(|v| *v > 0.0) {
                        @let h = (v / scale * (H - 2.0)).max(1.5);
                        rect x=(format!("{:.2}", i as f64 * bar + bar * 0.1))
                            y=(format!("{:.2}", H - 1.0 - h))
                            width=(format!("{:.2}", (bar * 0.8).max(0.5)))
                            height=(format!("{h:.2}")) {
                            title { (label(p)) " UTC — " (measure.unit(v)) }
                        }
                    }
                }
            }
            div.axis-labels {
                span { (first) }
                span.muted { "max " (match measure { Measure::P99 => ms(max), _ => format!("{max:.0}") }) }
                span { (last) " UTC" }
            }
        }
    }
}

fn per(step_s: i64) -> String {
    if step_s <= 60 {
        "minute".into()
    } else {
        format!("{} min", step_s / 60)
    }
}
