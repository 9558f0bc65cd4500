//! The plugin manifest (`manifest.json`, packaged as `plugin.json`) and its validation rules
//! (plugin-contract §1.2, §1.3, §1.4).
//!
//! The host refuses to run a component whose manifest is invalid, and the same rules check the
//! repository's manifest in tests and the package step. Pure: text in, errors out.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The parts of the manifest the host uses. Validation reads the raw JSON, so unknown keys are
/// still checked where the rules name them.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The permission registry of §1.4.
pub const PERMISSIONS: &[&str] = &[
    "vault.read",
    "vault.write",
    "vault.watch",
    "files.read",
    "files.write",
    "files.delete",
    "files.openExternal",
    "imports.readExternal",
    "imports.apply",
    "storage.namespace",
    "storage.migrations",
    "events.publish",
    "events.subscribe",
    "ui.register",
    "commands.register",
    "workbench.open",
    "network.local",
    "network.remote",
    "process.spawn",
    "secrets.read",
    "secrets.write",
    "sync.participate",
    "browser.receiver.manage",
    "notifications.schedule",
];

/// The contribution points the desktop accepts (§1.3).
const CONTRIBUTION_KEYS: &[&str] = &[
    "views",
    "commands",
    "settingsPanels",
    "sidebarItems",
    "fileActions",
    "noteActions",
    "contextMenuEntries",
    "searchProviders",
    "activityProviders",
    "worklogProviders",
    "overviewProviders",
    "statusBarItems",
    "openProviders",
    "workspaceItems",
];

#[derive(Debug, thiserror::Error)]
#[error("invalid manifest: {}", .problems.join("; "))]
pub struct ManifestError {
    pub problems: Vec<String>,
}

/// Parses and validates the manifest text; every rule violation is listed, not just the first.
pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| ManifestError {
        problems: vec![format!("not valid JSON: {e}")],
    })?;
    let problems = problems(&raw);
    if !problems.is_empty() {
        return Err(ManifestError { problems });
    }
    serde_json::from_value(raw).map_err(|e| ManifestError {
        problems: vec![e.to_string()],
    })
}

fn is_semver(s: &str) -> bool {
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && pre.is_none_or(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        })
}

fn is_plugin_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn is_locale_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn is_relative_path(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.contains('\\')
        && !s.split('/').any(|seg| seg == "..")
}

fn nonempty_str(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

fn string_list(v: Option<&Value>) -> Option<Vec<&str>> {
    v?.as_array()?.iter().map(Value::as_str).collect()
}

fn problems(raw: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(m) = raw.as_object() else {
        return vec!["the manifest must be a JSON object".into()];
    };
    let mut need = |ok: bool, msg: &str| {
        if !ok {
            out.push(msg.to_string());
        }
    };
    need(
        m.get("schemaVersion").and_then(Value::as_i64) == Some(1) && m["schemaVersion"].is_i64(),
        "schemaVersion must be the integer 1",
    );
    need(
        m.get("id")
            .and_then(Value::as_str)
            .is_some_and(is_plugin_id),
        "id must match ^[a-zA-Z][a-zA-Z0-9.-]*$",
    );
    need(
        m.get("name").is_some_and(nonempty_str),
        "name must be a non-empty string",
    );
    for key in ["version", "apiVersion"] {
        need(
            m.get(key).and_then(Value::as_str).is_some_and(is_semver),
            &format!("{key} must look like 1.2.3 or 1.2.3-pre"),
        );
    }
    if let Some(source) = m.get("source") {
        need(
            matches!(source.as_str(), Some("official" | "local" | "third-party")),
            "source must be official, local or third-party",
        );
    }
    if let Some(dev) = m.get("development") {
        need(dev.is_boolean(), "development must be a boolean");
    }
    need(
        string_list(m.get("provides")).is_some_and(|l| !l.is_empty()),
        "provides must list at least one capability",
    );
    for key in ["requires", "optionalRequires"] {
        if m.contains_key(key) {
            need(
                string_list(m.get(key)).is_some(),
                &format!("{key} must be a list of capability names"),
            );
        }
    }
    match string_list(m.get("permissions")) {
        Some(list) if !list.is_empty() => {
            for p in list.iter().filter(|p| !PERMISSIONS.contains(p)) {
                out.push(format!("unknown permission \"{p}\""));
            }
        }
        _ => out.push("permissions must list at least one permission".into()),
    }
    if let Some(loc) = m.get("localization") {
        check_localization(loc, &mut out);
    }
    if let Some(frontend) = m.get("frontend") {
        let ok = frontend
            .get("entry")
            .and_then(Value::as_str)
            .is_some_and(is_relative_path)
            && frontend
                .get("style")
                .is_none_or(|s| s.as_str().is_some_and(is_relative_path));
        if !ok {
            out.push(
                "frontend needs a relative entry path (and style, if given, must be relative)"
                    .into(),
            );
        }
    }
    if let Some(contributes) = m.get("contributes") {
        check_contributions(contributes, &mut out);
    }
    out
}

fn check_localization(loc: &Value, out: &mut Vec<String>) {
    let locales = loc.get("locales").and_then(Value::as_object);
    let Some(locales) = locales else {
        out.push("localization.locales must be an object".into());
        return;
    };
    for (tag, path) in locales {
        if !is_locale_tag(tag) {
            out.push(format!("locale tag \"{tag}\" is not valid"));
        }
        if !path.as_str().is_some_and(is_relative_path) {
            out.push(format!(
                "catalog path of \"{tag}\" must be relative, without .. or backslash"
            ));
        }
    }
    let default = loc
        .get("defaultLocale")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !locales.contains_key(default) {
        out.push("localization.defaultLocale must be one of the locales".into());
    }
}

fn check_contributions(contributes: &Value, out: &mut Vec<String>) {
    let Some(map) = contributes.as_object() else {
        out.push("contributes must be an object".into());
        return;
    };
    for key in map
        .keys()
        .filter(|k| !CONTRIBUTION_KEYS.contains(&k.as_str()))
    {
        out.push(format!("unknown contribution point \"{key}\""));
    }
    let items = |key: &str| {
        map.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for panel in items("settingsPanels") {
        if !["id", "title", "component"]
            .iter()
            .all(|k| panel.get(*k).is_some_and(nonempty_str))
        {
            out.push("every settings panel needs id, title and component".into());
        }
    }
    for item in items("statusBarItems") {
        if !["id", "label"]
            .iter()
            .all(|k| item.get(*k).is_some_and(nonempty_str))
        {
            out.push("every status-bar item needs id and label".into());
        }
        if let Some(pos) = item.get("position")
            && !matches!(pos.as_str(), Some("left" | "right" | "center"))
        {
            out.push("status-bar item position must be left, right or center".into());
        }
    }
}

/// The catalog rules of §1.3, checked against the manifest: `en` is the default, `en` and `ru`
/// have identical key sets, and both hold `manifest.name` and one key per contribution text.
pub fn catalog_problems(
    manifest: &Value,
    en: &Map<String, Value>,
    ru: &Map<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    if manifest
        .pointer("/localization/defaultLocale")
        .and_then(Value::as_str)
        != Some("en")
    {
        out.push("localization.defaultLocale must be en".into());
    }
    let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
    let (en_keys, ru_keys) = (keys(en), keys(ru));
    for k in en_keys.symmetric_difference(&ru_keys) {
        out.push(format!("catalog key \"{k}\" is in only one of en and ru"));
    }
    let mut required = vec!["manifest.name".to_string()];
    let contributes = manifest.get("contributes").and_then(Value::as_object);
    for (point, field) in [("settingsPanels", "title"), ("statusBarItems", "label")] {
        let list = contributes
            .and_then(|c| c.get(point))
            .and_then(Value::as_array);
        for item in list.into_iter().flatten() {
            let id = item.get("id").and_then(Value::as_str).unwrap_or("");
            required.push(format!("contributions.{point}.{id}.{field}"));
        }
    }
    for key in required {
        for (tag, catalog) in [("en", en), ("ru", ru)] {
            if !catalog.get(&key).is_some_and(nonempty_str) {
                out.push(format!("catalog {tag} lacks \"{key}\""));
            }
        }
    }
    for (tag, catalog) in [("en", en), ("ru", ru)] {
        for (k, v) in catalog.iter().filter(|(_, v)| !v.is_string()) {
            out.push(format!(
                "catalog {tag} value of \"{k}\" is not a string: {v}"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
