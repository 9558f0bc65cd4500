//! Rendering checks that need no server: escaping of hostile values in the layout and in
//! rows, the header variants, the sidebar mark and select options.

use super::layout::{Choice, Nav, Ui};
use super::{admin, dashboard, message};
use crate::store::admin::DeviceRow;
use crate::web::i18n::Locale;

const EVIL: &str = "<img src=x onerror='a'>\"&";
const EVIL_ESCAPED: &str = "&lt;img src=x onerror=&#39;a&#39;&gt;&quot;&amp;";

fn ui<'a>(nav: Nav<'a>, server_name: &'a str, here: &'a str) -> Ui<'a> {
    Ui {
        loc: Locale::Ru,
        title: "Title",
        server_name,
        allow_registration: false,
        locale_csrf: "lc",
        here,
        nav,
        notice: None,
    }
}

#[test]
fn layout_escapes_header_values_and_picks_the_navigation() {
    let u = ui(Nav::Guest, EVIL, EVIL);
    let p = message::error(&u, "error.csrf");
    assert!(p.starts_with("<!doctype html>\n<html lang=\"ru\">"));
    assert!(p.ends_with("</body></html>\n"));
    assert!(
        !p.contains(EVIL) && p.matches(EVIL_ESCAPED).count() == 3,
        "{p}"
    );
    assert!(p.contains("<input type=\"hidden\" name=\"locale_csrf\" value=\"lc\">"));
    assert!(p.contains("<option value=\"ru\" selected>Русский</option>"));
    assert!(p.contains("href=\"/login\"") && !p.contains("href=\"/register\""));
    assert!(!p.contains("action=\"/logout\"") && !p.contains("class=\"sidebar\""));

    let u = ui(Nav::User("tok\""), "S", "/");
    let p = message::message(&u, "reset.done");
    assert_eq!(p.matches("action=\"/logout\"").count(), 1);
    assert!(p.contains("name=\"csrf_token\" value=\"tok&quot;\""));
    // Only the message's own sign-in link, none in the header.
    assert_eq!(p.matches("href=\"/login\"").count(), 1);
}

#[test]
fn admin_pages_mark_their_section_and_carry_the_session_token() {
    let u = ui(Nav::Admin("tok", "/admin/users"), "S", "/admin/users");
    let p = admin::notice(&u, "error.notFound");
    assert_eq!(p.matches("aria-current").count(), 1);
    assert!(p.contains("<a href=\"/admin/users\" aria-current=\"page\">"));
    assert_eq!(p.matches("action=\"/admin/logout\"").count(), 1);
    assert!(
        p.contains("<h1>Title</h1>") && p.contains("<p class=\"flash error\" role=\"status\">")
    );
    assert!(p.contains("<input type=\"hidden\" name=\"csrf_token\" value=\"tok\">"));
}

#[test]
fn dashboard_escapes_rows_and_encodes_the_revoke_path() {
    let id = "device');alert(1);//";
    let rows = [
        DeviceRow {
            id: id.into(),
            name: EVIL.into(),
            vault_id: "v&1".into(),
            ..Default::default()
        },
        DeviceRow {
            id: "gone".into(),
            name: "old".into(),
            vault_id: "v&1".into(),
            revoked_at: "2026-07-17T13:45:00Z".into(),
            ..Default::default()
        },
    ];
    let u = ui(Nav::User("tok"), "S", "/dashboard");
    let p = dashboard::render(&u, &["user.deviceRevoked"], EVIL, &rows);
    assert!(!p.contains(EVIL) && !p.contains(id), "{p}");
    // The name is in its row, in the revoke dialog that names the device, and in the filter.
    assert_eq!(
        p.matches(EVIL_ESCAPED).count(),
        3,
        "name, dialog and filter"
    );
    // The id is shown escaped, under the name and in the dialog.
    assert_eq!(p.matches("device&#39;);alert(1);//").count(), 2, "{p}");
    assert!(
        p.contains("action=\"/api/v1/user/devices/device%27%29%3Balert%281%29%3B%2F%2F/revoke\"")
    );
    assert!(p.contains("<strong>v&amp;1</strong> <span class=\"muted\">(1)</span>"));
    assert_eq!(p.matches("data-dialog-open=\"revoke-dialog-").count(), 1);
    assert!(p.contains("<span class=\"badge off\">"));
    assert!(p.contains("<p class=\"flash ok\" role=\"status\">"));
}

#[test]
fn choices_select_the_current_value() {
    let c = Choice::list("b", &[("a", "A"), ("b", "B")]);
    assert_eq!(
        c.iter().map(|c| (c.value, c.selected)).collect::<Vec<_>>(),
        [("a", false), ("b", true)]
    );
}

/// Every literal catalog key a template or page model passes to `ui.t`/`ui.tf` exists, so no
/// page shows "Translation unavailable" for a typo or a missing entry.
#[test]
fn every_literal_key_in_templates_and_pages_is_in_the_catalog() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("templates"), &mut all);
    files(&root.join("src/web/pages"), &mut all);
    let mut checked = 0;
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap();
        for opener in ["ui.t(\"", "ui.tf(\""] {
            for part in text.split(opener).skip(1) {
                let key = &part[..part.find('"').unwrap()];
                assert!(crate::web::i18n::has(key), "{}: {key}", f.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} keys found");
}

#[test]
fn history_pages_escape_paths_device_names_and_texts() {
    use super::history::{self, Script, VersionView};
    use super::vaults::{self, FileRow};
    let v = |n: i64, kind: &'static str| VersionView {
        path: format!("{EVIL}/n.md"),
        version: n,
        time: "2026-12-06T02:36:30Z".into(),
        device_id: "dev_1".into(),
        device: EVIL.into(),
        size: Some(12),
        kind,
        renamed_from: None,
        renamed_to: None,
    };
    let u = ui(Nav::User("tok"), "S", "/vaults/v/file");
    let script = Script {
        merge_module: Some("/static/merge/merge_web.js?v=1".into()),
        csrf: "tok",
    };
    let versions = [v(3, "deleted"), v(2, "text"), v(1, "binary")];
    let p = history::render_file(&u, "v&1", &versions[0].path, &versions, None, &script);
    assert!(!p.contains(EVIL), "{p}");
    assert!(p.contains(&format!("<code>{EVIL_ESCAPED}/n.md</code>")));
    // A deletion has no download or restore; text and binary versions have both; only text
    // versions take part in the diff.
    assert_eq!(p.matches("action=\"/vaults/v%261/restore\"").count(), 2);
    assert_eq!(p.matches("data-text-url=").count(), 1);
    assert!(p.contains("href=\"/vaults/v%261/download?path=%3Cimg+src%3Dx+onerror%3D%27a%27%3E%22%26%2Fn.md&amp;version=1\""));
    assert!(p.contains("<script type=\"module\" src=\"/static/history.js\"></script>"));
    assert!(p.contains("data-merge=\"/static/merge/merge_web.js?v=1\""));

    let rows = [FileRow {
        path: format!("{EVIL}/n.md"),
        version: 2,
        time: String::new(),
        size: Some(1),
    }];
    let p = vaults::render_browse(&u, "v", "", EVIL, &rows);
    assert!(!p.contains(EVIL), "{p}");
    let p = vaults::render_browse(&u, "v", "", "", &rows);
    assert!(p.contains(&format!(">{EVIL_ESCAPED}/</a>")), "{p}");
}
