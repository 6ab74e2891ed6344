//! `[detectors.<tag>]` sections: switch a built-in detector off or tune it. Each section
//! is named by the tag id the detector emits, and takes only its own keys.

use serde::Deserialize;
use toml::Value;

use super::PolicyError;
use super::detect::bulk::BulkConfig;
use super::detect::off_hours::{OffHours, parse_day, parse_hhmm, parse_zone};
use super::detect::set::Detectors;
use super::detect::{BUILTIN_TAGS, normalise};
use super::glob::Patterns;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductionSpec {
    enabled: Option<bool>,
    /// Replaces the built-in list of production environment globs.
    environments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternSpec {
    enabled: Option<bool>,
    #[serde(default)]
    extra_patterns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PiiSpec {
    enabled: Option<bool>,
    #[serde(default)]
    extra_fields: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportSpec {
    enabled: Option<bool>,
    /// Replaces the built-in export kind globs.
    kinds: Option<Vec<String>>,
    #[serde(default)]
    extra_commands: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkSpec {
    enabled: Option<bool>,
    rows: Option<u64>,
    resources: Option<u64>,
    diff_lines: Option<u64>,
    #[serde(default)]
    extra_row_keys: Vec<String>,
    #[serde(default)]
    extra_resource_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffHoursSpec {
    enabled: Option<bool>,
    timezone: Option<String>,
    start: Option<String>,
    end: Option<String>,
    days: Option<Vec<String>>,
}

fn typed<T: for<'de> Deserialize<'de>>(section: &str, v: &Value) -> Result<T, PolicyError> {
    v.clone()
        .try_into()
        .map_err(|e: toml::de::Error| err(section, e.message().trim_end()))
}

fn err(section: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Section {
        section: section.to_string(),
        message: message.into(),
    }
}

/// Applies every `[detectors.*]` section to the built-in defaults.
pub fn apply(v: &Value, d: &mut Detectors) -> Result<(), PolicyError> {
    let Some(table) = v.as_table() else {
        return Err(err(
            "detectors",
            "must be a table of [detectors.<tag>] sections",
        ));
    };
    for (name, v) in table {
        let section = format!("detectors.{name}");
        let s = section.as_str();
        let on = |enabled: Option<bool>| enabled.unwrap_or(true);
        match name.as_str() {
            "production" => {
                let spec: ProductionSpec = typed(s, v)?;
                if let Some(envs) = &spec.environments {
                    let p = Patterns::compile(envs)
                        .map_err(|e| err(s, format!("environments: {e}")))?;
                    d.production = Some(p);
                }
                if !on(spec.enabled) {
                    d.production = None;
                }
            }
            "destructive" | "privilege-escalation" => {
                let spec: PatternSpec = typed(s, v)?;
                let slot = if name == "destructive" {
                    &mut d.destructive
                } else {
                    &mut d.privilege
                };
                if let Some(list) = slot.as_mut() {
                    list.extend(normalise(spec.extra_patterns));
                }
                if !on(spec.enabled) {
                    *slot = None;
                }
            }
            "pii" => {
                let spec: PiiSpec = typed(s, v)?;
                if let Some(fields) = d.pii.as_mut() {
                    fields.extend(normalise(
                        spec.extra_fields.iter().map(|f| f.replace(' ', "_")),
                    ));
                }
                if !on(spec.enabled) {
                    d.pii = None;
                }
            }
            "data-export" => {
                let spec: ExportSpec = typed(s, v)?;
                if let Some((kinds, commands)) = d.export.as_mut() {
                    if let Some(k) = &spec.kinds {
                        *kinds = Patterns::compile(k).map_err(|e| err(s, format!("kinds: {e}")))?;
                    }
                    commands.extend(normalise(spec.extra_commands));
                }
                if !on(spec.enabled) {
                    d.export = None;
                }
            }
            "bulk" => {
                let spec: BulkSpec = typed(s, v)?;
                let cfg = bulk(
                    spec.rows,
                    spec.resources,
                    spec.diff_lines,
                    spec.extra_row_keys,
                    spec.extra_resource_keys,
                )
                .map_err(|e| err(s, e))?;
                d.bulk = on(spec.enabled).then_some(cfg);
            }
            "off-hours" => {
                let spec: OffHoursSpec = typed(s, v)?;
                let cfg = off_hours(
                    spec.timezone.as_deref(),
                    spec.start.as_deref(),
                    spec.end.as_deref(),
                    spec.days.as_deref(),
                )
                .map_err(|e| err(s, e))?;
                d.off_hours = on(spec.enabled).then_some(cfg);
            }
            "first-time" => d.first_time = on(typed::<Switch>(s, v)?.enabled),
            "unknown-kind" => d.unknown_kind = on(typed::<Switch>(s, v)?.enabled),
            "network-exposure" => d.network_exposure = on(typed::<Switch>(s, v)?.enabled),
            "public-data" => d.public_data = on(typed::<Switch>(s, v)?.enabled),
            "hidden-characters" => {
                if typed::<Switch>(s, v)?.enabled == Some(false) {
                    return Err(err(
                        s,
                        "cannot be disabled: hidden characters let a request say something \
                         other than what the approver reads",
                    ));
                }
            }
            _ => {
                return Err(err(
                    s,
                    format!(
                        "unknown detector; expected one of {}",
                        detector_names().join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every detector section name, which is its tag id.
fn detector_names() -> Vec<&'static str> {
    BUILTIN_TAGS.iter().map(|(id, _)| *id).collect()
}

/// Parses `[detectors.off-hours]` settings into working hours.
fn off_hours(
    timezone: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
    days: Option<&[String]>,
) -> Result<OffHours, String> {
    let mut cfg = OffHours::system();
    if let Some(tz) = timezone {
        cfg.zone = parse_zone(tz).map_err(|e| format!("timezone: {e}"))?;
        cfg.zone_name = tz.trim().to_string();
    }
    if let Some(s) = start {
        cfg.start = parse_hhmm(s).map_err(|e| format!("start: {e}"))?;
    }
    if let Some(e) = end {
        cfg.end = parse_hhmm(e).map_err(|e| format!("end: {e}"))?;
    }
    if cfg.start == cfg.end {
        return Err("start and end are equal: working hours would be empty".into());
    }
    if let Some(days) = days {
        cfg.days = days
            .iter()
            .map(|d| parse_day(d).map_err(|e| format!("days: {e}")))
            .collect::<Result<_, _>>()?;
    }
    Ok(cfg)
}

/// Bulk thresholds with extra context keys.
fn bulk(
    rows: Option<u64>,
    resources: Option<u64>,
    diff_lines: Option<u64>,
    extra_row_keys: Vec<String>,
    extra_resource_keys: Vec<String>,
) -> Result<BulkConfig, String> {
    let mut cfg = BulkConfig::default();
    for (name, v, slot) in [
        ("rows", rows, &mut cfg.rows),
        ("resources", resources, &mut cfg.resources),
        ("diff_lines", diff_lines, &mut cfg.diff_lines),
    ] {
        if let Some(v) = v {
            if v == 0 {
                return Err(format!("{name}: a threshold of 0 would tag every request"));
            }
            *slot = v;
        }
    }
    cfg.row_keys.extend(normalise(extra_row_keys));
    cfg.resource_keys.extend(normalise(extra_resource_keys));
    Ok(cfg)
}
