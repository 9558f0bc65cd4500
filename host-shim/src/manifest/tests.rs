use super::*;
use serde_json::json;

fn valid() -> Value {
    json!({
        "schemaVersion": 1, "id": "verstak.sync", "name": "Sync", "version": "0.1.0", "apiVersion": "0.1.0",
        "source": "third-party",
        "localization": {"defaultLocale": "en", "locales": {"en": "locales/en.json", "ru": "locales/ru.json"}},
        "provides": ["verstak/sync/v1"], "requires": ["verstak/core/files/v1"],
        "permissions": ["files.read", "network.remote"],
        "frontend": {"entry": "frontend/dist/index.js", "style": "frontend/dist/style.css"},
        "contributes": {
            "settingsPanels": [{"id": "verstak.sync.settings", "title": "Sync", "component": "SyncSettings"}],
            "statusBarItems": [{"id": "verstak.sync.status", "label": "Sync", "position": "right", "handler": "SyncStatusBar"}]
        }
    })
}

fn problems_after(edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut v = valid();
    edit(&mut v);
    problems(&v)
}

#[test]
fn the_example_is_valid() {
    assert_eq!(problems(&valid()), Vec::<String>::new());
    assert_eq!(parse(&valid().to_string()).unwrap().id, "verstak.sync");
}

type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn each_rule_rejects_its_violation() {
    let cases: Vec<(&str, Edit)> = vec![
        ("schemaVersion", Box::new(|v| v["schemaVersion"] = json!(2))),
        (
            "schemaVersion",
            Box::new(|v| v["schemaVersion"] = json!("1")),
        ),
        ("id must match", Box::new(|v| v["id"] = json!("1sync"))),
        (
            "id must match",
            Box::new(|v| v["id"] = json!("verstak_sync")),
        ),
        ("name", Box::new(|v| v["name"] = json!(""))),
        ("version", Box::new(|v| v["version"] = json!("1.0"))),
        (
            "apiVersion",
            Box::new(|v| v["apiVersion"] = json!("0.1.0-")),
        ),
        ("source", Box::new(|v| v["source"] = json!("mine"))),
        ("provides", Box::new(|v| v["provides"] = json!([]))),
        (
            "unknown permission \"network.everything\"",
            Box::new(|v| v["permissions"] = json!(["network.everything"])),
        ),
        (
            "permissions must list",
            Box::new(|v| v["permissions"] = json!([])),
        ),
        (
            "locale tag",
            Box::new(|v| v["localization"]["locales"]["EN"] = json!("locales/x.json")),
        ),
        (
            "catalog path",
            Box::new(|v| v["localization"]["locales"]["ru"] = json!("../ru.json")),
        ),
        (
            "defaultLocale",
            Box::new(|v| v["localization"]["defaultLocale"] = json!("de")),
        ),
        (
            "frontend",
            Box::new(|v| v["frontend"] = json!({"style": "a.css"})),
        ),
        (
            "unknown contribution point \"widgets\"",
            Box::new(|v| v["contributes"]["widgets"] = json!([])),
        ),
        (
            "settings panel",
            Box::new(|v| v["contributes"]["settingsPanels"][0]["component"] = json!("")),
        ),
        (
            "status-bar item needs",
            Box::new(|v| {
                v["contributes"]["statusBarItems"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("label")
                    .map(|_| ())
                    .unwrap()
            }),
        ),
        (
            "position",
            Box::new(|v| v["contributes"]["statusBarItems"][0]["position"] = json!("top")),
        ),
    ];
    for (expected, edit) in cases {
        let found = problems_after(edit);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "expected a problem containing {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn prerelease_versions_are_accepted() {
    assert!(problems_after(|v| v["version"] = json!("1.2.3-beta.1")).is_empty());
}

fn catalog(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

#[test]
fn catalogs_need_identical_keys_and_the_contribution_texts() {
    let full = [
        ("manifest.name", "Sync"),
        (
            "contributions.settingsPanels.verstak.sync.settings.title",
            "Sync",
        ),
        (
            "contributions.statusBarItems.verstak.sync.status.label",
            "Sync",
        ),
    ];
    let en = catalog(&full);
    assert!(catalog_problems(&valid(), &en, &en.clone()).is_empty());

    let mut ru = en.clone();
    ru.remove("contributions.statusBarItems.verstak.sync.status.label");
    ru.insert("extra".into(), json!("x"));
    let found = catalog_problems(&valid(), &en, &ru);
    assert!(
        found.iter().any(|p| p.contains("\"extra\" is in only one")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("catalog ru lacks \"contributions.statusBarItems")),
        "{found:?}"
    );
}
